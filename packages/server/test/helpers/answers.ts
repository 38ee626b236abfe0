/**
 * The error kinds each method answered in a running service, from the dispatcher's call
 * events, to hold against what the method's contract declares: a test service fails its
 * stop() when a method answered an error its contract does not declare.
 */
import type { App } from '../../src/index.js';
import { answerableErrors } from '../../src/rpc/index.js';

export class Answers {
  /** Method → the outcomes it answered ('ok' or an error kind). */
  readonly byMethod = new Map<string, Set<string>>();
  readonly #app: App;

  constructor(app: App) {
    this.#app = app;
    const metrics = app.metrics;
    const observe = metrics.observeCall.bind(metrics);
    metrics.observeCall = (call) => {
      let outcomes = this.byMethod.get(call.method);
      if (!outcomes) this.byMethod.set(call.method, (outcomes = new Set()));
      outcomes.add(call.outcome);
      observe(call);
    };
  }

  /** Whether `method` answered `kind` at least once. */
  answered(method: string, kind: string): boolean {
    return this.byMethod.get(method)?.has(kind) ?? false;
  }

  /** "method: kind" for every error answered that the method's contract does not declare. */
  undeclared(): string[] {
    const found: string[] = [];
    for (const [method, outcomes] of this.byMethod) {
      const registered = this.#app.methods.get(method);
      if (!registered) continue; // (unknown) and (invalid): no method to declare them
      const declared = answerableErrors(registered.contract);
      for (const outcome of outcomes) {
        if (outcome !== 'ok' && !declared.has(outcome as never))
          found.push(`${method}: ${outcome}`);
      }
    }
    return found.sort();
  }
}
