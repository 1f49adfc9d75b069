import type { StatusCallbackConfig, StatusCallbackEvent } from '../config/channel.ts';
import { callbackDestinationId, EVENTS, STATUS_EVENT_CONTENT_TYPE, statusEvent } from '../senders/status-callback/event.ts';
import type { FollowUpDelivery } from '../store/types.ts';
import type { SettledDelivery } from './dispatcher.ts';
import { laneOf } from './lanes.ts';

/**
 * Status callbacks (issue 5, part 5): after a delivery of a channel is acknowledged, rejected
 * or dead, a status event is POSTed to the channel's `statusCallback.url`.
 *
 * Durability: the event is built when the outcome is known and handed to the store as the
 * attempt's follow-up, which the store writes in the same transaction as the terminal attempt
 * (store/types.ts FollowUpDelivery). A crash before that commit loses both: the delivery is
 * still pending, is resent with the same control id, settles again and brings its event. The
 * event row is then delivered by an ordinary DestinationDispatcher (one per destination, with
 * the destination id `status-callback:<destination>`), retried with the callback's own
 * delivery policy; that dispatcher has no follow-ups, so callbacks never beget callbacks.
 */

/**
 * The dispatcher hook of one destination: the callback row to store with a terminal outcome,
 * or undefined when the channel does not want that event.
 */
export function statusCallbackFollowUp(
  config: StatusCallbackConfig,
  where: { channelId: string; destinationId: string },
): (settled: SettledDelivery) => FollowUpDelivery | undefined {
  const wanted = new Set<StatusCallbackEvent>(config.events);
  const destinationId = callbackDestinationId(where.destinationId);
  return (settled) => {
    if (!wanted.has(EVENTS[settled.status].name)) return undefined;
    // The row carries its message's source and partition key: no read of the store here, which
    // could fail (a database restarting) and lose the event.
    const { row } = settled;
    const event = statusEvent(settled, { ...where, source: { id: row.sourceId, version: row.sourceVersion } });
    return {
      destinationId,
      // The partition key's lane: one patient's events stay in order, like their deliveries.
      lane: laneOf(row.partitionKey, config.delivery.lanes),
      controlId: event.id,
      payload: JSON.stringify(event),
      contentType: STATUS_EVENT_CONTENT_TYPE,
    };
  };
}

