// ESM entry of the one import: waits, with top-level await, until the SDK's ESM build is patched, so
// the importing module's body (which connects clients and servers) runs fully instrumented.
import register from './register.js';

await register.ready;
