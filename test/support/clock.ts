/** A clock the test moves by setting `at` (milliseconds). */
export function clockAt(iso: string) {
  const clock = { at: Date.parse(iso), now: () => new Date(clock.at) };
  return clock;
}
