import { SingleBar, Presets } from 'cli-progress';

export interface ProgressFrame {
  done: number;
  total: number;
  label: string;
}

/**
 * Polls `read` until it returns a final value, drawing a live bar on a terminal (plain lines otherwise, so logs
 * and CI output stay readable).
 */
export async function watch<T>(
  read: () => Promise<{ frame?: ProgressFrame; final?: T }>,
  options: { intervalMs?: number; unit: string },
): Promise<T> {
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new SingleBar(
        {
          format: `{bar} {value}/{total} ${options.unit}  {label}`,
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastLine = '';
  try {
    for (;;) {
      const { frame, final } = await read();
      if (frame) {
        if (bar) {
          if (!started) bar.start(Math.max(frame.total, 1), frame.done, { label: frame.label });
          else bar.setTotal(Math.max(frame.total, 1));
          bar.update(frame.done, { label: frame.label });
          started = true;
        } else {
          const line = `${frame.done}/${frame.total} ${options.unit}  ${frame.label}`;
          if (line !== lastLine) process.stderr.write(`${line}\n`);
          lastLine = line;
        }
      }
      if (final !== undefined) return final;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
    }
  } finally {
    if (started) bar?.stop();
  }
}
