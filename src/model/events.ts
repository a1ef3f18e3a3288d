/** Stream events: what the client reports about the flows it watches (added, update, removed). */
import type { Stream } from './stream.js';

export type StreamEventKind = 'added' | 'update' | 'removed';

export interface StreamEvent {
  event: StreamEventKind;
  /** ms since epoch (or the replay's record time). */
  time: number;
  stream: Stream;
  /** `added` for a source that existed when the subscription started (the ADD_ALL walk). */
  initial?: boolean;
}
