// `auth`: challenge → signed login → bearer session.
import { authChallengeOutput, authLoginInput, authLoginOutput, authWhoamiOutput } from '@lpw/api';
import { z } from 'zod';
import { ipLimitedProcedure, router, walletProcedure } from './trpc.ts';

export const authRouter = router({
  challenge: ipLimitedProcedure
    .output(authChallengeOutput)
    .mutation(({ ctx }) => ctx.services.auth.challenge()),
  login: ipLimitedProcedure
    .input(authLoginInput)
    .output(authLoginOutput)
    .mutation(({ ctx, input }) => ctx.services.auth.login(input, ctx.ip)),
  whoami: walletProcedure.output(authWhoamiOutput).query(({ ctx }) => ({
    nodeId: ctx.wallet.nodeId,
    expires_at: new Date(ctx.wallet.expiresAtMs).toISOString(),
  })),
  logout: walletProcedure.output(z.object({ ok: z.literal(true) })).mutation(async ({ ctx }) => {
    await ctx.services.auth.logout(ctx.token!);
    return { ok: true as const };
  }),
});
