import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../model/span.js';
import { makeSpan, traceId, type SpanSpec } from '../pipeline/test-support/spans.js';
import { spanFacts } from './span-facts.js';
import { spanTaskHint, taskIdOfTrace } from './task-grouping.js';

const span = (spec: Partial<SpanSpec> & { scopeName?: string } = {}): SpanRecord => {
  const { scopeName, ...rest } = spec;
  const record = makeSpan({ trace: 't', span: 's', startMs: 0, durationMs: 1, service: 'agent', ...rest });
  return scopeName === undefined ? record : { ...record, scopeName };
};
const toolCall = (attributes: SpanSpec['attributes'] = {}, rest: Partial<SpanSpec> = {}) =>
  span({
    kind: 'client',
    name: 'tools/call plan',
    attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'plan', ...attributes },
    ...rest,
  });
const taskOf = (...spans: SpanRecord[]) => taskIdOfTrace(traceId('t'), spans.map(spanFacts));

describe('the task rule: which task a trace belongs to', () => {
  it('an explicit task id wins over everything else', () => {
    const root = span({ attributes: { 'mcpscope.task.id': 'deploy-42', 'gen_ai.conversation.id': 'c1' } });
    expect(
      taskOf(root, toolCall({ 'mcpscope.connection.id': 'conn-1' }, { span: 'call', parent: 's' })),
    ).toBe('deploy-42');
  });

  it("a root span of the application's own makes its trace the task, over a conversation id", () => {
    const root = span({ name: 'agent run', attributes: { 'gen_ai.conversation.id': 'c1' } });
    expect(taskOf(root, toolCall({}, { span: 'call', parent: 's' }))).toBe(traceId('t'));
  });

  it('a tool call with no span around it joins its conversation, else its connection', () => {
    expect(taskOf(toolCall({ 'gen_ai.conversation.id': 'c1', 'mcpscope.connection.id': 'conn-1' }))).toBe(
      'conversation:c1',
    );
    expect(taskOf(toolCall({ 'mcpscope.connection.id': 'conn-1' }))).toBe('connection:conn-1');
    expect(taskOf(toolCall({ 'mcp.session.id': 'sess-9' }))).toBe('mcp-session:sess-9');
    expect(taskOf(toolCall())).toBe(traceId('t'));
  });

  it('framework spans that are never active do not make a task of their own: their thread id does', () => {
    const chain = span({
      name: 'RunnableSequence',
      scopeName: '@arizeai/openinference-instrumentation-langchain',
      attributes: { 'openinference.span.kind': 'CHAIN', metadata: '{"thread_id":"th-7","step":1}' },
    });
    expect(taskOf(chain)).toBe('conversation:th-7');
    const llm = span({
      attributes: { 'openinference.span.kind': 'LLM', 'session.id': 'th-7', 'llm.token_count.prompt': 10 },
    });
    expect(taskOf(llm)).toBe('conversation:th-7');
    const traceloop = span({
      kind: 'client',
      attributes: { 'gen_ai.operation.name': 'chat', 'traceloop.association.properties.thread_id': 'th-7' },
    });
    expect(taskOf(traceloop)).toBe('conversation:th-7');
  });

  it('the gen_ai conversation id outranks a session id on the same span', () => {
    const llm = span({
      kind: 'client',
      attributes: { 'session.id': 's-1', 'gen_ai.conversation.id': 'c-1' },
    });
    expect(spanTaskHint(llm)).toBe('conversation:c-1');
  });

  it('never depends on the order spans arrive in: the strongest hint, the smallest value among equals', () => {
    const spans = [
      toolCall({ 'mcpscope.connection.id': 'conn-b' }),
      span({ span: 'llm', parent: 's', kind: 'client', attributes: { 'session.id': 'zz' } }),
      span({ span: 'x', parent: 's', attributes: { 'session.id': 'aa' } }),
    ].map(spanFacts);
    expect(taskIdOfTrace('t', spans)).toBe('conversation:aa');
    expect(taskIdOfTrace('t', [...spans].reverse())).toBe('conversation:aa');
  });

  it('spans stored before hints existed keep their trace as their task', () => {
    expect(taskIdOfTrace('t', [{ taskId: null, taskHint: null }])).toBe('t');
  });
});
