// renderer: imports only main/protocol from main/, and reaches the engine only through renderer/transport.
import '@xyflow/react/dist/style.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { createTransport } from '../transport/index.ts';
import { App } from './App.tsx';
import { setEngineClient } from './engine/engineClient.ts';

setEngineClient(createTransport());
createRoot(document.getElementById('root')!).render(<App />);
