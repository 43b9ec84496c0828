export {
  createForwarder,
  type ForwardDropReason,
  type Forwarder,
  type ForwarderOptions,
  type ForwarderStats,
} from './forwarder.js';
