import { z } from 'zod';
import { PROCESSING_MODES } from './catalog.ts';
import { isValidCreditCode } from './credit-code.ts';
import { isValidIdentityNumber } from './identity-number.ts';

/**
 * What an application (申报) carries: the zod schemas the API validates request bodies with and the web
 * forms reuse. GB/T 39046-2020 table 5 (办件基本信息).
 */

const name = z.string().trim().min(1, 'give the name').max(100);
const phone = z
  .string()
  .trim()
  .regex(/^1\d{10}$/, 'a mainland mobile number has 11 digits and starts with 1, e.g. 13800000000');

/** 申请人: a natural person (resident identity number, GB 11643) or a legal person (credit code, GB 32100). */
export const ApplicantSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('natural_person'),
    name,
    idNumber: z
      .string()
      .trim()
      .refine(
        (v) => isValidIdentityNumber(v),
        '18-character resident identity number with a valid date and check character (GB 11643)',
      ),
    phone: phone.optional(),
    email: z.email().optional(),
    accountId: z
      .string()
      .max(64)
      .optional()
      .describe(
        'kept as given, not trusted: messages go to the account the server records (cases.applicant_account_id)',
      ),
  }),
  z.strictObject({
    kind: z.literal('legal_person'),
    name,
    creditCode: z
      .string()
      .trim()
      .refine(
        (v) => isValidCreditCode(v),
        '18-character unified social credit code with a valid check character (GB 32100)',
      ),
    contactName: name.optional(),
    phone: phone.optional(),
    email: z.email().optional(),
    accountId: z
      .string()
      .max(64)
      .optional()
      .describe(
        'kept as given, not trusted: messages go to the account the server records (cases.applicant_account_id)',
      ),
  }),
]);
export type Applicant = z.infer<typeof ApplicantSchema>;

/** 帮办代办: someone applying on the applicant's behalf, with the authorization (委托 / consent record). */
export const AgentSchema = z.strictObject({
  kind: z.enum(['village_agent', 'hall_helper', 'authorized_person']),
  name,
  idNumber: z
    .string()
    .trim()
    .refine((v) => isValidIdentityNumber(v), 'a valid resident identity number')
    .optional(),
  /** Reference of the recorded consent or power of attorney (委托书编号 / 同意记录). Required. */
  authorizationRef: z
    .string()
    .trim()
    .min(1, 'record the consent or authorization and give its reference')
    .max(100),
});
export type Agent = z.infer<typeof AgentSchema>;

/** 申报渠道 */
export const ChannelSchema = z.enum(['pc', 'mobile', 'hall_window', 'village_agent', 'post']);
export type Channel = z.infer<typeof ChannelSchema>;

/** Where the applicant wants the result: pickup at a hall, mail, or an electronic licence. */
export const DeliveryPreferenceSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('pickup'), hallCode: z.string().min(1).max(64) }),
  z.strictObject({
    method: z.literal('mail'),
    recipient: name,
    phone,
    address: z.string().trim().min(5, 'give the full postal address').max(300),
  }),
  z.strictObject({ method: z.literal('e_licence') }),
]);
export type DeliveryPreference = z.infer<typeof DeliveryPreferenceSchema>;

const divisionCode = z
  .string()
  .regex(/^(\d{6}|\d{9}|\d{12})$/, 'a county (6), township (9) or village (12) digit code');

/**
 * Form data (申请表单 content): flat key → text / number / boolean / list of option values (multiselect).
 * This is only the shape; the values are checked against the item's form definition (`formFields`,
 * src/domain/form.ts `validateFormData`) when the case is submitted.
 */
export const FormDataSchema = z
  .record(
    z.string().min(1).max(64),
    z.union([z.string().max(2000), z.number(), z.boolean(), z.null(), z.array(z.string().max(200)).max(200)]),
  )
  .refine((r) => Object.keys(r).length <= 100, 'at most 100 form fields');

/** 申报 — the body of `POST /api/v1/cases`. */
export const SubmitCaseSchema = z.strictObject({
  itemCode: z.string().regex(/^\d{12}$/, 'the 12-digit basic code of the service item'),
  applicant: ApplicantSchema,
  agent: AgentSchema.optional(),
  channel: ChannelSchema,
  /** 收件地: the hall receiving it (required for hall_window, village_agent and off-site intake). */
  intakeHallCode: z.string().min(1).max(64).optional(),
  processingMode: z.enum(
    Object.keys(PROCESSING_MODES) as [keyof typeof PROCESSING_MODES, ...(keyof typeof PROCESSING_MODES)[]],
  ),
  /** The division the item's deciding basis names (户籍地, 参保地, 不动产所在地 …): routes the case. */
  decidingDivisionCode: divisionCode,
  /** 多地联办: the other divisions (and items) whose competent departments each decide a part. */
  parts: z
    .array(
      z.strictObject({
        decidingDivisionCode: divisionCode,
        itemCode: z
          .string()
          .regex(/^\d{12}$/)
          .optional(),
      }),
    )
    .max(10)
    .optional(),
  formData: FormDataSchema.default({}),
  delivery: DeliveryPreferenceSchema,
});
export type SubmitCaseInput = z.input<typeof SubmitCaseSchema>;
export type SubmitCase = z.infer<typeof SubmitCaseSchema>;
