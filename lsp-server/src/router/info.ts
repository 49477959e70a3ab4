// `info`: public facts a wallet reads before anything else.
import { infoOutput, MAX_BACKUP_KEYS } from '@lpw/api';
import { publicProcedure, router } from './trpc.ts';

export const infoRouter = router({
  get: publicProcedure.output(infoOutput).query(({ ctx }) => {
    const { config, node } = ctx.deps;
    return {
      nodeId: node.nodeId,
      network: node.network,
      peerAddress: config.publicPeerAddress ?? null,
      websocketPath: config.websocketPath,
      esploraUrl: config.publicEsploraUrl ?? config.esploraUrl ?? null,
      limits: {
        minJitPaymentMsat: config.fee.minPaymentSizeMsat.toString(),
        maxJitPaymentMsat: config.fee.maxPaymentSizeMsat.toString(),
        maxBackupBlobBytes: config.limits.maxBackupBlobBytes,
        maxBackupKeys: Math.min(config.limits.maxBackupKeys, MAX_BACKUP_KEYS),
      },
      features: ['lsps1', 'lsps2', 'backup', 'routes', 'websocket-peer'] as const,
    };
  }),
});
