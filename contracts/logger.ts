// Structured JSON-lines logger. It satisfies Temporal's Logger interface so the SDK runtime, the worker and the
// activities all write the same format. Values of secret-looking keys are masked before anything is written.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogMeta = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
// Whole-key matches too: nodemailer's auth is {user, pass}, S3 clients take accessKeyId / aws_access_key_id.
const SECRET_KEY =
  /(secret|password|passwd|token|api[_-]?key|authorization|credential|private[_-]?key|encryption[_-]?key|access[_-]?key|^pass$|^pwd$|cookie)/i;

export interface Logger {
  log(level: LogLevel | Uppercase<LogLevel>, message: string, meta?: LogMeta): void;
  trace(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  child(meta: LogMeta): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  component?: string;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}, base: LogMeta = {}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const fixed: LogMeta = options.component ? { component: options.component, ...base } : base;

  const emit = (level: LogLevel, message: string, meta?: LogMeta) => {
    if (ORDER[level] < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...redact({ ...fixed, ...meta }) }));
  };
  return {
    log: (level, message, meta) => emit(level.toLowerCase() as LogLevel, message, meta),
    trace: (m, meta) => emit('trace', m, meta),
    debug: (m, meta) => emit('debug', m, meta),
    info: (m, meta) => emit('info', m, meta),
    warn: (m, meta) => emit('warn', m, meta),
    error: (m, meta) => emit('error', m, meta),
    child: (meta) => createLogger({ ...options, component: undefined }, { ...fixed, ...meta }),
  };
}

export function redact(value: unknown, depth = 0): LogMeta {
  return redactValue(value, depth) as LogMeta;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 6) return '[nested]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== undefined && v !== null ? '*****' : redactValue(v, depth + 1),
      ]),
    );
  }
  if (typeof value === 'string') return value.replace(/\/\/([^@/\s]*):([^@/\s]*)@/g, '//*****:*****@');
  if (typeof value === 'bigint') return value.toString();
  return value;
}
