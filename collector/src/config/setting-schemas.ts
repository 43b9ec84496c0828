import { z } from 'zod';

/** One setting: where it comes from (flag, environment variable), what it accepts, and its default. */
export interface SettingSpec<T> {
  flag: string;
  env: string;
  /** What a valid value looks like, for the start-up error message. */
  expected: string;
  description: string;
  schema: z.ZodType<T, z.ZodTypeDef, string>;
  default: T;
}

export const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

export const setting = <T>(spec: SettingSpec<T>) => spec;

export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const positiveNumber = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/)
  .transform(Number)
  .pipe(z.number().positive());

export const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const httpUrl = z
  .string()
  .trim()
  .url()
  .refine((value) => /^https?:\/\//.test(value));
