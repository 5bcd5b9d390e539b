import { compose, CompositionTask, revive } from './composition';
import type { Composition } from './mime-composer';

/** Runs in a CompositionPool thread: one composition, its bytes cloned back to the caller. */
export default function composeInThread(task: CompositionTask): Promise<Composition> {
  return compose(revive(task));
}
