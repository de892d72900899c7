// The project's logger: pino underneath, behind a small interface that also satisfies Temporal's Logger, so the SDK
// runtime, the worker, the activities, the API and the CLI all write the same records. JSON lines (time, level, msg,
// then the fields) for machines; pino-pretty's rendering of the same records for a person at a terminal. Values of
// secret-looking keys and passwords inside URLs are masked before anything is written, at any depth (pino's own
// redact paths name fixed paths, which cannot follow arbitrary nesting). Errors keep their stack and their causes.

import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogMeta = Record<string, unknown>;
export type LogFormat = 'json' | 'pretty';

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
  /** 'json' (the default) or 'pretty'; entry points pass what {@link chooseLogFormat} decides. */
  format?: LogFormat;
  /** Takes each record (one line, no newline; several lines when pretty) instead of the destination: tests. */
  write?: (line: string) => void;
  /** File descriptor written to: 1 (stdout, the default) or 2 (stderr: the CLI, whose stdout is its answer). */
  destination?: 1 | 2;
  /** Colours in pretty output; defaults to whether the destination is a terminal. */
  colorize?: boolean;
  /**
   * Turn the value of a top-level field into what is logged, before masking: Fastify's `req`/`res` serializers,
   * for example, so a request object is logged as its method and URL rather than walked whole.
   */
  serializers?: Record<string, (value: never) => unknown>;
}

/**
 * LOG_FORMAT's 'auto': pretty when a person reads the stream (a terminal) outside production, JSON lines otherwise
 * (a pipe, a file, a container's log collector, and always with NODE_ENV=production unless asked for explicitly).
 */
export function chooseLogFormat(
  setting: LogFormat | 'auto' | undefined,
  stream: { isTTY?: boolean },
  nodeEnv: string | undefined,
): LogFormat {
  if (setting === 'json' || setting === 'pretty') return setting;
  return stream.isTTY === true && nodeEnv !== 'production' ? 'pretty' : 'json';
}

// The pino instance behind each Logger, for code that needs pino's own API (Fastify's loggerInstance).
const PINO = new WeakMap<Logger, PinoLogger>();

export function createLogger(options: LoggerOptions = {}, base: LogMeta = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      base: null, // no pid/hostname: the collector knows the host, and the worker identity is logged at start-up
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: {
        level: (label) => ({ level: label }),
        // Child bindings skip pino's bindings formatter, so wrap() prepares them itself.
        log: (record) => prepareForLog(serialize(record, options.serializers)),
      },
      // Errors are already plain objects (prepareForLog); pino's own err serializer would rebuild them.
      serializers: { err: (v: unknown) => v },
    },
    destinationFor(options),
  );
  const fixed: LogMeta = options.component ? { component: options.component, ...base } : base;
  return wrap(Object.keys(fixed).length > 0 ? instance.child(prepareForLog(fixed)) : instance);
}

function serialize(record: LogMeta, serializers: LoggerOptions['serializers']): LogMeta {
  if (!serializers) return record;
  const out: LogMeta = { ...record };
  for (const [key, fn] of Object.entries(serializers)) {
    if (out[key] !== undefined) out[key] = fn(out[key] as never);
  }
  return out;
}

/** The pino instance behind a logger made here (undefined for any other implementation of the interface). */
export function pinoLoggerOf(log: Logger): PinoLogger | undefined {
  return PINO.get(log);
}

function wrap(instance: PinoLogger): Logger {
  const emit = (level: LogLevel, message: string, meta?: LogMeta) => {
    if (meta === undefined) instance[level](message);
    else instance[level](meta, message);
  };
  const logger: Logger = {
    log: (level, message, meta) => emit(level.toLowerCase() as LogLevel, message, meta),
    trace: (m, meta) => emit('trace', m, meta),
    debug: (m, meta) => emit('debug', m, meta),
    info: (m, meta) => emit('info', m, meta),
    warn: (m, meta) => emit('warn', m, meta),
    error: (m, meta) => emit('error', m, meta),
    child: (meta) => wrap(instance.child(prepareForLog(meta))),
  };
  PINO.set(logger, instance);
  return logger;
}

/** One writer per file descriptor, shared by every logger of the process. */
const SINKS = new Map<number, DestinationStream>();

function destinationFor(options: LoggerOptions): DestinationStream {
  const fd = options.destination ?? 1;
  const pretty =
    options.format === 'pretty'
      ? prettyFactory({
          colorize: options.colorize ?? (options.write ? false : (fd === 2 ? process.stderr : process.stdout).isTTY),
          translateTime: 'SYS:HH:MM:ss.l',
          errorLikeObjectKeys: ['err', 'error'],
        })
      : undefined;
  if (options.write) {
    const out = options.write;
    return { write: (line: string) => out(pretty ? pretty(line).replace(/\n$/, '') : line.replace(/\n$/, '')) };
  }
  // Synchronous writes: a line logged right before process.exit() is not lost, and logging stays ordered with
  // the process's other output. Our processes log a few lines per activity, not per record.
  let sink = SINKS.get(fd);
  if (!sink) SINKS.set(fd, (sink = pino.destination({ dest: fd, sync: true })));
  return pretty ? { write: (line: string) => sink.write(pretty(line)) } : sink;
}

/** What the logger writes of a record or of bindings: secrets masked, errors with stack and causes. */
export function prepareForLog(value: LogMeta): LogMeta {
  return walk(value, 0, { errors: 'full', seen: new WeakSet() }) as LogMeta;
}

/**
 * A copy of `value` safe to print: values of secret-looking keys masked, user:password in URLs masked, errors as
 * their name and message, bigints as strings, deeper than six levels cut off.
 */
export function redact(value: unknown, depth = 0): LogMeta {
  return walk(value, depth, { errors: 'brief', seen: new WeakSet() }) as LogMeta;
}

interface Walk {
  errors: 'brief' | 'full';
  seen: WeakSet<object>;
}

const MAX_DEPTH = 6;
/** Causes and AggregateError members followed at most this deep (their own depth does not count against MAX_DEPTH). */
const MAX_CAUSES = 10;
/** Error properties written by their own rules, or too large and unreadable to log (a Temporal failure's proto). */
const ERROR_OWN = new Set(['name', 'message', 'stack', 'cause', 'errors', 'failure']);

const maskUrls = (text: string) => text.replace(/\/\/([^@/\s]*):([^@/\s]*)@/g, '//*****:*****@');

function walk(value: unknown, depth: number, ctx: Walk, causes = 0): unknown {
  if (depth > MAX_DEPTH) return '[nested]';
  if (typeof value === 'string') return maskUrls(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    if (ctx.errors === 'brief') return { name: value.name, message: value.message };
    if (ctx.seen.has(value)) return '[circular]';
    ctx.seen.add(value);
    try {
      return errorRecord(value, depth, ctx, causes);
    } finally {
      ctx.seen.delete(value);
    }
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof URL) return maskUrls(value.href);
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  if (ctx.seen.has(value)) return '[circular]';
  ctx.seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, ctx));
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== undefined && v !== null ? '*****' : walk(v, depth + 1, ctx),
      ]),
    );
  } finally {
    // Only cycles are cut: the same object twice side by side is written twice.
    ctx.seen.delete(value);
  }
}

/**
 * An error as a plain record: name, message, stack, its own fields (a PostgreSQL error's code and detail; a Temporal
 * failure's type, nonRetryable, activityType, retryState...), then its cause (Error.cause, which Temporal's
 * ActivityFailure and ChildWorkflowFailure also use) and an AggregateError's errors, each the same way.
 */
function errorRecord(error: Error, depth: number, ctx: Walk, causes: number): LogMeta {
  const record: LogMeta = { name: error.name, message: maskUrls(error.message) };
  if (typeof error.stack === 'string') record.stack = maskUrls(error.stack);
  for (const [k, v] of Object.entries(error)) {
    if (ERROR_OWN.has(k) || v === undefined || typeof v === 'function') continue;
    record[k] = SECRET_KEY.test(k) && v !== null ? '*****' : walk(v, depth + 1, ctx);
  }
  const follow = (next: unknown) => (causes >= MAX_CAUSES ? '[more causes]' : walk(next, depth, ctx, causes + 1));
  if (error.cause !== undefined) record.cause = follow(error.cause);
  if (error instanceof AggregateError && Array.isArray(error.errors)) record.errors = error.errors.map(follow);
  return record;
}
