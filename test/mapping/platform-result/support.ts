/**
 * Helpers for the platform-result mapping tests: the repository's sample events and mapping
 * settings (read through ../support/repo.ts). The property test's seeded PRNG is ../support/prng.ts.
 */
import type { InputError } from '../../../src/errors.ts';
import { mapPlatformEvent } from '../../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../../src/mapping/platform-result/settings.ts';
import type { MappedInput } from '../../../src/mapping/types.ts';
import { asStored, mappingSettings, platformEvent, refusalOf } from '../../support/repo.ts';

/** The settings of the repository's mappings/platform-result.yaml. */
export const SETTINGS: PlatformResultSettings = PlatformResultSettings.parse(mappingSettings('platform-result.yaml'));

/** A sample event of samples/platform-events/, parsed, as a fresh mutable object. */
// biome-ignore lint/suspicious/noExplicitAny: samples are edited freely by the tests.
export function sample(name: string): any {
  return platformEvent(name);
}

/** Maps an event and returns it as stored (JSON), so absent and undefined fields compare alike. */
export function mapped(body: unknown, settings: PlatformResultSettings = SETTINGS): MappedInput {
  return asStored(mapPlatformEvent(body, settings));
}

/** The InputError an event is refused with. */
export function refusal(body: unknown, settings: PlatformResultSettings = SETTINGS): InputError {
  return refusalOf(() => mapPlatformEvent(body, settings), 'the event was accepted');
}
