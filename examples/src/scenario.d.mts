// Types of scenario.mjs, for TypeScript tests that import the demo's script and truth.

export type ServerName = 'infra-stdio' | 'infra-http' | 'runbook-stdio' | 'runbook-http' | 'change-http';
export type TaskOutcome = 'success' | 'recovered' | 'failed';

export interface ToolCallSpec {
  server: ServerName;
  tool: string;
  arguments: Record<string, unknown>;
}

export type Credentials = { oauth: string; sendAs?: 'bearer' } | { bearer: string };

export type Step =
  | { llm: { inputTokens: number; outputTokens: number } }
  | {
      call: ToolCallSpec;
      expect: 'ok' | 'tool_error' | 'protocol_error';
      code?: number;
      save?: string;
      /** The operator's answer to the elicitation the server sends during the call. */
      operator?: 'accept' | 'decline' | 'cancel';
      /** Give up on the call after this long (a timeout)… */
      timeoutMs?: number;
      /** …and drop the connection it was sent on (a dedicated one). */
      dropConnection?: boolean;
      /** `input_required` rounds the server asks the agent to answer before the call completes (v2). */
      inputRounds?: number;
      endsTask?: boolean;
    }
  | {
      retry: ToolCallSpec & { maxAttempts: number };
      expect: 'recovered' | 'exhausted';
      attempts: number;
      endsTask?: boolean;
    }
  | { readResource: { server: ServerName; uri: string } }
  | { getPrompt: { server: ServerName; name: string; arguments: Record<string, string> } }
  | {
      connect: { server: ServerName; credentials: Credentials };
      expect: 'connected' | 'unauthorized' | 'forbidden';
      endsTask?: boolean;
    }
  | { expireAccessToken: { server: ServerName } }
  | {
      /** The agent's own approval step for a call, wrapped in mcpscope's `checkpoint()`. */
      approval: { tool: string; arguments: Record<string, unknown> };
      stateVersion?: unknown;
      answer: 'approve' | 'reject' | 'expire';
      reviewer?: string;
      expiresInMs?: number;
    }
  | { sleep: { ms: number } };

/** Verdicts of the checkpoint telemetry contract. */
export type CheckpointOutcomeTruth = 'approved' | 'rejected' | 'expired' | 'cancelled' | 'pending';
export type WriteVerdict = 'approved' | 'unapproved' | 'stale' | 'modified';

/** What the collector must report about a task's human checkpoints. */
export interface CheckpointTruth {
  checkpoints: Array<{
    kind: 'elicitation' | 'input_required' | 'task_input_required' | 'app';
    tool: string;
    outcome: CheckpointOutcomeTruth;
  }>;
  /** Calls of tools whose `mcpscope.tool.read_only` is false, each under its worst verdict. */
  writes: Array<{ tool: string; verdict: WriteVerdict }>;
  orphanedWrites: Array<{ tool: string; destructive: 'true' | 'false' | 'unknown' }>;
}

export interface AuthFailureTruth {
  reason: 'expired_token' | 'invalid_token' | 'insufficient_scope';
  httpStatus: 401 | 403;
}

/** What the collector must report for a task. */
export interface TaskTruth {
  /** `tools/call` requests, one per logical call; every retry attempt counts. */
  toolCalls: number;
  failedCalls: number;
  retries: number;
  outcome: TaskOutcome;
  inputTokens: number;
  outputTokens: number;
  /** Bearer challenges answered during the task; each is seen by the server and by the agent. */
  authFailures: AuthFailureTruth[];
  /** Successful refresh_token grants during the task. */
  tokenRefreshes?: number;
}

export interface Task {
  id: string;
  description: string;
  steps: Step[];
  truth: TaskTruth;
  checkpoints?: CheckpointTruth;
}

export interface ServerSpec {
  script: string;
  transport: 'stdio' | 'http';
  /** The MCP SDK line the server is built on; the agent calls a v2 server with a v2 client. */
  sdk?: 'v2';
  args: string[];
}

export declare const SECRETS: Readonly<{
  awsSecretAccessKey: string;
  githubToken: string;
  password: string;
  jwt: string;
  databasePassword: string;
  readonly databaseUrl: string;
  forgedAccessToken: string;
}>;
export declare const SECRET_VALUES: readonly string[];
export declare const SERVICE_NAMES: Readonly<Record<'agent' | ServerName, string>>;
export declare const ACCESS_TOKEN_TTL_SECONDS: number;
export declare const SERVERS: Readonly<Record<ServerName, ServerSpec>>;
export declare const DEMO_MODEL: string;
export declare const RUNBOOK_SCOPE: string;
export declare const STATUS_ONLY_SCOPE: string;
export declare const TASKS: readonly Task[];
export declare const taskIdFor: (task: Task, runLabel?: string) => string;
export declare const scenarioTotals: () => {
  tasks: number;
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  authFailures: number;
  outcomes: Record<TaskOutcome, number>;
};
export declare const checkpointTruth: (task: Task) => CheckpointTruth;
export declare const checkpointTotals: () => {
  outcomes: Partial<Record<CheckpointOutcomeTruth, number>>;
  verdicts: Partial<Record<WriteVerdict, number>>;
  orphanedWrites: number;
};
