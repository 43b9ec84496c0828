import { describe, expect, it } from 'vitest';
import { inputRequestKinds, isContinuationRequest, taskOfResult } from './protocol-rounds.js';
import { isSupportedSdkRoot, SDK_V1, SDK_V2_CLIENT, sdkOfEsmProtocolPath } from './sdk-package.js';

describe('input_required rounds', () => {
  it('names what a round asks for, once each, sorted', () => {
    expect(
      inputRequestKinds({
        confirm: { method: 'elicitation/create', params: {} },
        region: { method: 'elicitation/create', params: {} },
        draft: { method: 'sampling/createMessage', params: {} },
        where: { method: 'roots/list' },
        odd: { method: 'vendor/ask' },
        broken: null,
      }),
    ).toEqual(['elicitation', 'roots', 'sampling', 'vendor/ask']);
    expect(inputRequestKinds(undefined)).toEqual([]);
  });

  it('tells a re-sent call by its answers or its request state', () => {
    expect(isContinuationRequest({ method: 'tools/call', params: { name: 'x', inputResponses: {} } })).toBe(
      true,
    );
    expect(
      isContinuationRequest({ method: 'tools/call', params: { name: 'x', requestState: 'opaque' } }),
    ).toBe(true);
    expect(isContinuationRequest({ method: 'tools/call', params: { name: 'x' } })).toBe(false);
  });
});

describe('tasks', () => {
  it('reads a created task, a polled task and a task result', () => {
    expect(taskOfResult({ task: { taskId: 't-1', status: 'working' } })).toEqual({
      taskId: 't-1',
      status: 'working',
    });
    expect(taskOfResult({ taskId: 't-1', status: 'completed' })).toEqual({
      taskId: 't-1',
      status: 'completed',
    });
    expect(taskOfResult({ resultType: 'task', taskId: 't-2' })).toEqual({ taskId: 't-2' });
    expect(taskOfResult({ content: [] })).toBeUndefined();
    expect(taskOfResult(null)).toBeUndefined();
  });
});

describe('SDK packages', () => {
  it('finds the package whose ESM protocol module a path is', () => {
    expect(sdkOfEsmProtocolPath('/app/node_modules/@modelcontextprotocol/client/dist/index.mjs')).toEqual({
      sdk: SDK_V2_CLIENT,
      root: '/app/node_modules/@modelcontextprotocol/client',
    });
    expect(
      sdkOfEsmProtocolPath('/app/node_modules/@modelcontextprotocol/sdk/dist/esm/shared/protocol.js')?.sdk,
    ).toBe(SDK_V1);
    expect(
      sdkOfEsmProtocolPath('/app/node_modules/@modelcontextprotocol/node/dist/index.mjs'),
    ).toBeUndefined();
  });

  it('bounds each line: v1 from 1.10, v2 from 2.0.0 (no pre-releases), neither past its major', () => {
    expect(SDK_V1.inRange('1.10.0')).toBe(true);
    expect(SDK_V1.inRange('1.9.9')).toBe(false);
    expect(SDK_V1.inRange('2.0.0')).toBe(false);
    expect(SDK_V2_CLIENT.inRange('2.0.0')).toBe(true);
    expect(SDK_V2_CLIENT.inRange('2.4.0')).toBe(true);
    expect(SDK_V2_CLIENT.inRange('2.0.0-beta.5')).toBe(false);
    expect(SDK_V2_CLIENT.inRange('3.0.0')).toBe(false);
    expect(isSupportedSdkRoot('/no/such/folder', SDK_V2_CLIENT)).toBe(false);
  });
});
