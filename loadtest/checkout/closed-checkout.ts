import type { PlannedRequest } from '../workloads.js';
import type { CheckoutVisitors } from './visitors.js';

/** Requests due at a time, the earliest first (a binary heap: think times put them out of order). */
const dueQueue = () => {
  const heap: { at: number; request: PlannedRequest }[] = [];
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
  return {
    get size() {
      return heap.length;
    },
    push(at: number, request: PlannedRequest): void {
      heap.push({ at, request });
      for (let i = heap.length - 1; i > 0 && heap[(i - 1) >> 1]!.at > heap[i]!.at; i = (i - 1) >> 1)
        swap(i, (i - 1) >> 1);
    },
    /** The earliest request due at `now`, if any. */
    popDue(now: number): { at: number; request: PlannedRequest } | undefined {
      const first = heap[0];
      if (!first || first.at > now) return undefined;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ;) {
          const [left, right] = [2 * i + 1, 2 * i + 2];
          let least = i;
          if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left;
          if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right;
          if (least === i) break;
          swap(i, least);
          i = least;
        }
      }
      return first;
    },
  };
};

/**
 * The checkout in the closed model: each of N connections sends its next request as soon as its
 * last is answered, and that request is a visitor's follow-up whose think time is over if one is
 * due, else a new visitor's hold. A thinking visitor holds no connection: its follow-up waits in
 * a queue by due time, and goes out on the first connection free after it. How late it went
 * (`lateMs`: its send time less its due time) says whether the connections kept up.
 */
export const closedCheckout = (visitors: CheckoutVisitors, clock: () => number = () => performance.now()) => {
  const due = dueQueue();
  const lateMs: number[] = [];
  return {
    /** The next request to send (autocannon's setupRequest). */
    next: (): PlannedRequest => {
      const now = clock();
      const followUp = due.popDue(now);
      if (!followUp) return visitors.arrive();
      lateMs.push(now - followUp.at);
      return followUp.request;
    },
    /** Told of every answer: a visitor with a follow-up starts thinking now. */
    answered: (planned: PlannedRequest, status: number): void => {
      const followUp = visitors.answered(planned, status);
      if (followUp) due.push(clock() + followUp.thinkMs, followUp.request);
    },
    /** Follow-ups still waiting (visitors thinking) when the load stopped: they leave unsent. */
    thinking: () => due.size,
    /** How late each follow-up went out, ms. */
    lateMs: () => lateMs,
  };
};
