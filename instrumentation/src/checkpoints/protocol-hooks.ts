// What the protocol patches call: kept in one place so the hot path imports one module.
export { addCallerExecution, addReceiverExecution, stampCheckpointMeta } from './execution.js';
export { decideRoundCheckpoints, proposeRoundCheckpoints, traceElicitation } from './protocol-checkpoints.js';
export {
  addToolAnnotations,
  learnRegisteredAnnotations,
  rememberToolAnnotations,
} from './tool-annotations.js';
export { markToolCall } from './tool-call-context.js';
