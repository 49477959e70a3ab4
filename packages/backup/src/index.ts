// @lpw/backup: signed, encrypted, versioned channel-state backups for the PWA worker and the CLI.
export { BackedUpStore, type BackedUpStoreOptions } from './backed-up-store.ts';
export {
  type BackupChoice,
  type BackupCopy,
  type ChosenCopy,
  type CopySource,
  type CopyVerdict,
  chooseNewest,
} from './choose.ts';
export {
  type BackupContents,
  type BackupHeader,
  type DecodedBackup,
  decodeBackup,
  encodeBackup,
  FORMAT_VERSION,
  HEADER_BYTES,
  MIN_BACKUP_BYTES,
  readBackupHeader,
} from './codec.ts';
export { countChannels, isBackedUpKey, selectBackedUp } from './content.ts';
export { BackupError, type BackupErrorCode, isBackupError } from './errors.ts';
export {
  BACKUP_ROUTE,
  HEADER_EXPECTED_VERSION,
  HEADER_LEASE_TOKEN,
  HEADER_VERSION,
  type HttpBlobClient,
  type HttpBlobClientOptions,
  httpBlobClient,
} from './http.ts';
export { type BackupKeys, backupKeysFrom, deriveBackupKeys } from './keys.ts';
export {
  decodePeerPut,
  encodePeerPut,
  encodePeerRefused,
  encodePeerStored,
  PeerBackupLink,
  type PeerPut,
} from './peer-link.ts';
export {
  type BackupTransport,
  BackupUploader,
  backoffDelayMs,
  DEFAULT_BACKUP_KEY,
  type LeaseGrant,
  tooLarge,
  type UploaderOptions,
  type UploaderStatus,
} from './uploader.ts';
