// The one router; its type is what the wallet's tRPC client imports.
import { addressRouter } from './address.ts';
import { authRouter } from './auth.ts';
import { backupRouter } from './backup.ts';
import { infoRouter } from './info.ts';
import { jitRouter } from './jit.ts';
import { ordersRouter } from './orders.ts';
import { ratesRouter } from './rates.ts';
import { relayRouter } from './relay.ts';
import { routesRouter } from './routes.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  info: infoRouter,
  auth: authRouter,
  backup: backupRouter,
  jit: jitRouter,
  orders: ordersRouter,
  routes: routesRouter,
  relay: relayRouter,
  rates: ratesRouter,
  address: addressRouter,
});

export type AppRouter = typeof appRouter;
