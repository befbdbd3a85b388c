/** True on CI (`CI` set to anything but `false` or `0`, as CI services and `.ci/run` do). */
export function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * A test's `skip` for a component the machine may lack (Kafka, Redis, Chromium): the reason off CI,
 * false on CI, where the test then runs and fails on the missing component instead of passing unseen.
 * @example describe('Kafka triggers', { skip: skipUnlessCi(kafkaMissing()) }, () => { ... });
 */
export function skipUnlessCi(reason: string | undefined): string | false {
  return reason && !onCi() ? reason : false;
}
