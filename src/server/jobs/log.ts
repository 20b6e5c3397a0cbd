import type { Config } from '../config.ts';

/** A minimal logger for services that log outside a request (notifications, jobs), honouring LOG_LEVEL. */
export function jobLog(config: Pick<Config, 'logLevel'>): { info(m: string): void; warn(m: string): void } {
  const quiet = config.logLevel === 'silent' || config.logLevel === 'fatal' || config.logLevel === 'error';
  return {
    info: (m) => {
      if (!quiet && config.logLevel !== 'warn') console.log(m);
    },
    warn: (m) => {
      if (!quiet) console.warn(m);
    },
  };
}
