/**
 * Options of {@link HalProblemModule}. Every option has a safe default, so
 * `HalProblemModule.forRoot()` with no options is a complete setup.
 */
export interface HalProblemModuleOptions {
  /** Reserved for capabilities added in later versions. */
  readonly [key: string]: unknown;
}
