import { Injectable } from '@nestjs/common';
import type { MessageEventType } from './message-status';

export type MessageEventListener = (type: MessageEventType, count: number) => void;

/**
 * Tells listeners (the metrics) how many events of each type were written:
 * by MessageLifecycle for every transition, and by the emails module for the
 * first events of the messages it stored. Listeners run synchronously on the
 * caller's path, so they must be cheap and must not throw.
 */
@Injectable()
export class MessageEventFeed {
  private readonly listeners: MessageEventListener[] = [];

  subscribe(listener: MessageEventListener): void {
    this.listeners.push(listener);
  }

  recorded(type: MessageEventType, count = 1): void {
    if (count === 0) return;
    for (const listener of this.listeners) listener(type, count);
  }
}
