/**
 * Read ahead by one: the items of an async generator (pages of a cursor), each next one asked
 * for as soon as the one before is handed out, so that fetching it overlaps with what the
 * consumer does with the one it holds (anchoring: a page is fetched on one connection while
 * the page before is copied in on another).
 */
export async function* prefetched<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = source.next();
      yield item.value;
    }
  } finally {
    // A consumer that stops early (or throws) leaves at most one fetch in flight: it settles
    // first, then the source is closed (its cursor with it).
    await next.catch(() => undefined);
    await source.return(undefined);
  }
}
