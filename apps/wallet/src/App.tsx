// Which screen shows: no wallet → welcome; locked → lock; unlocked → the navigation's screen.
import { useEffect } from 'react';
import { UpdateNotice } from './components/UpdateNotice.tsx';
import { Channel } from './screens/channel/Channel.tsx';
import { Home } from './screens/home/Home.tsx';
import { Lock } from './screens/lock/Lock.tsx';
import { Onchain } from './screens/onchain/Onchain.tsx';
import { Receive } from './screens/receive/Receive.tsx';
import { Send } from './screens/send/Send.tsx';
import { Settings } from './screens/settings/Settings.tsx';
import { Streams } from './screens/streams/Streams.tsx';
import { Welcome } from './screens/welcome/Welcome.tsx';
import { Words } from './screens/words/Words.tsx';
import { useNav } from './stores/nav.ts';
import { useSession } from './stores/session.ts';

/** The screen, under any news of the wallet's own code (a verified update, or one refused). */
export function App() {
  return (
    <>
      <UpdateNotice />
      <CurrentScreen />
    </>
  );
}

function CurrentScreen() {
  const phase = useSession((s) => s.phase);
  const screen = useNav((s) => s.screen);
  useEffect(() => {
    void useSession.getState().init();
  }, []);
  if (phase === 'loading') return <main className="frame" aria-busy="true" />;
  if (phase === 'no-wallet') return <Welcome />;
  if (phase === 'locked') return <Lock />;
  switch (screen) {
    case 'receive':
      return <Receive />;
    case 'send':
      return <Send />;
    case 'streams':
      return <Streams />;
    case 'channel':
      return <Channel />;
    case 'onchain':
      return <Onchain />;
    case 'settings':
      return <Settings />;
    case 'words':
      return <Words />;
    default:
      return <Home />;
  }
}
