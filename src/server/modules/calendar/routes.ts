import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseIsoDate } from '../../../domain/calendar.ts';
import { invalid } from '../../../domain/errors.ts';
import { errorResponses } from '../../http/errors.ts';
import type { CalendarService } from './service.ts';

const Provisional = {
  provisional: z.boolean().describe('true when a year without a published schedule was involved: may change'),
  unknownYears: z.array(z.number().int()),
};

/**
 * Read-only working-day calendar API (Asia/Shanghai): a day, the n-th working day after a date
 * (start not counted, 行政许可法 art. 82), working days between two dates, and the known years.
 */
export function calendarRoutes(deps: { calendar: CalendarService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/calendar/days/:date',
      {
        schema: {
          tags: ['calendar'],
          summary: 'Is this day a working day? (holiday / adjusted workday / weekend)',
          params: z.object({ date: z.string() }),
          response: {
            200: z.object({
              date: z.string(),
              working: z.boolean(),
              dayType: z.enum(['weekday', 'weekend', 'holiday', 'adjusted_workday']),
              name: z.string().optional(),
              source: z.string(),
              ...Provisional,
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => deps.calendar.day(parseIsoDate(req.params.date, 'date')),
    );

    app.get(
      '/api/v1/calendar/working-days',
      {
        schema: {
          tags: ['calendar'],
          summary: 'from + add=N → the N-th working day after `from`; from + to → working days between',
          querystring: z.object({
            from: z.string().describe('YYYY-MM-DD'),
            add: z.coerce.number().int().min(0).max(10000).optional().describe('working days to add'),
            to: z.string().optional().describe('YYYY-MM-DD'),
          }),
          response: {
            200: z.object({
              from: z.string(),
              date: z.string().optional().describe('with add: the resulting date'),
              days: z
                .number()
                .int()
                .optional()
                .describe('with to: working days after from up to and including to'),
              ...Provisional,
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const from = parseIsoDate(req.query.from, 'from');
        const to = req.query.to === undefined ? undefined : parseIsoDate(req.query.to, 'to');
        const { add } = req.query;
        if ((add === undefined) === (to === undefined)) {
          throw invalid(
            'add',
            'Give exactly one of add=N (working days) or to=YYYY-MM-DD.',
            'calendar.query_shape',
          );
        }
        if (add !== undefined) return { from, ...(await deps.calendar.addWorkingDays(from, add)) };
        return { from, ...(await deps.calendar.workingDaysBetween(from, to!)) };
      },
    );

    app.get(
      '/api/v1/calendar/years',
      {
        schema: {
          tags: ['calendar'],
          summary: 'Years whose holiday schedule is known (others give provisional results)',
          response: { 200: z.object({ knownYears: z.array(z.number().int()) }) },
        },
      },
      async () => ({ knownYears: await deps.calendar.knownYears() }),
    );
  };
}
