// `backup`: per-wallet encrypted blobs with compare-and-swap, under a fencing lease. The blobs
// themselves travel over the binary routes (backup-routes.ts); put/get here carry base64 for the
// CLI until it moves to those routes, then go.
import {
  acquireLeaseInput,
  backupGetInput,
  backupGetOutput,
  backupListOutput,
  backupPutInput,
  backupPutOutput,
  leaseOutput,
  releaseLeaseInput,
} from '@lpw/api';
import { z } from 'zod';
import { router, walletProcedure } from './trpc.ts';

export const backupRouter = router({
  acquireLease: walletProcedure
    .input(acquireLeaseInput)
    .output(leaseOutput)
    .mutation(({ ctx, input }) =>
      ctx.services.backup.acquireLease(
        ctx.wallet.nodeId,
        input.deviceId,
        input.ttlSec,
        input.takeOver ?? true,
      ),
    ),
  releaseLease: walletProcedure
    .input(releaseLeaseInput)
    .output(z.object({ released: z.boolean() }))
    .mutation(({ ctx, input }) => ctx.services.backup.releaseLease(ctx.wallet.nodeId, input.fencingToken)),
  put: walletProcedure
    .input(backupPutInput)
    .output(backupPutOutput)
    .mutation(({ ctx, input }) => ctx.services.backup.put(ctx.wallet.nodeId, input, ctx.ip)),
  get: walletProcedure
    .input(backupGetInput)
    .output(backupGetOutput)
    .query(({ ctx, input }) => ctx.services.backup.get(ctx.wallet.nodeId, input.key)),
  list: walletProcedure
    .output(backupListOutput)
    .query(({ ctx }) => ctx.services.backup.list(ctx.wallet.nodeId)),
});
