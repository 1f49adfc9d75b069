/** One channel's share of the store (`conduit store stats`), whatever the database. */
export interface ChannelStoreStats {
  channelId: string;
  messages: number;
  /** Messages whose content retention removed. */
  contentRemoved: number;
  pendingDeliveries: number;
  /** Bytes of content (raw input, canonical report, encoded payloads, raw answers), UTF-8. */
  contentBytes: number;
  oldestReceivedAt: string | undefined;
}
