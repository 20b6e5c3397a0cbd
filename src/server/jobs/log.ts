import type { Config } from '../config.ts';

/** A minimal logger for services that log outside a request (notifications, jobs), honouring LOG_LEVEL. */
export function jobLog(
  config: Pick<Config, 'logLevel'>,
  stream?: { write(line: string): void },
): { info(m: string): void; warn(m: string): void } {
  const quiet = config.logLevel === 'silent' || config.logLevel === 'fatal' || config.logLevel === 'error';
  return {
    info: (m) => {
      if (!quiet && config.logLevel !== 'warn') stream ? stream.write(`${m}\n`) : console.log(m);
    },
    warn: (m) => {
      if (!quiet) stream ? stream.write(`${m}\n`) : console.warn(m);
    },
  };
}
