type ArgsOf<F> = F extends (...args: infer A) => unknown ? A : never;
type Methods<P> = {
  [K in keyof P]-?: P[K] extends (...args: never[]) => unknown ? K : never;
}[keyof P] &
  string;

export interface HookOptions<A extends unknown[]> {
  /** How many matching calls the hook applies to. @default 1 */
  times?: number;
  /** Only calls whose arguments match. */
  when?: (...args: A) => boolean;
}

interface Hook {
  action: (...args: unknown[]) => unknown;
  when: ((...args: unknown[]) => boolean) | undefined;
  left: number;
}

/** Records every call of a fake and runs hooks before them: the fault injection all share. */
export class Calls<P> {
  readonly log: { method: Methods<P>; args: unknown[] }[] = [];
  private readonly hooks = new Map<string, Hook[]>();

  /** Runs `action` (which may throw) before the next matching calls of `method`. */
  on<K extends Methods<P>>(
    method: K,
    action: (...args: ArgsOf<P[K]>) => unknown,
    options: HookOptions<ArgsOf<P[K]>> = {},
  ): this {
    const hooks = this.hooks.get(method) ?? [];
    hooks.push({
      action: action as (...args: unknown[]) => unknown,
      when: options.when as ((...args: unknown[]) => boolean) | undefined,
      left: options.times ?? 1,
    });
    this.hooks.set(method, hooks);
    return this;
  }

  /** Makes the next matching calls of `method` throw `error`. */
  fail<K extends Methods<P>>(
    method: K,
    error: Error,
    options: HookOptions<ArgsOf<P[K]>> = {},
  ): this {
    return this.on(
      method,
      () => {
        throw error;
      },
      options,
    );
  }

  count<K extends Methods<P>>(method: K, when?: (...args: ArgsOf<P[K]>) => boolean): number {
    return this.log.filter(
      (c) => c.method === method && (!when || when(...(c.args as ArgsOf<P[K]>))),
    ).length;
  }

  /** Called first by every fake method: records the call, runs the first hook that is due. */
  async enter<K extends Methods<P>>(method: K, args: ArgsOf<P[K]>): Promise<void> {
    this.log.push({ method, args });
    const hook = this.hooks.get(method)?.find((h) => h.left > 0 && (h.when?.(...args) ?? true));
    if (!hook) return;
    hook.left -= 1;
    await hook.action(...args);
  }
}
