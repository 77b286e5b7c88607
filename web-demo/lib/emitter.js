// A minimal event emitter: on/off/once/emit. A listener that throws is reported on the console
// (it must not stop the other listeners or the library's message loop).

export class Emitter {
  #listeners = new Map();

  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) {
    this.#listeners.get(name)?.delete(fn);
  }

  once(name, fn) {
    const off = this.on(name, (...args) => {
      off();
      fn(...args);
    });
    return off;
  }

  // Resolves with the first event `name` for which `filter` holds; rejects after `ms`.
  wait(name, { filter = () => true, ms = 10_000 } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no '${name}' event within ${ms} ms`));
      }, ms);
      const off = this.on(name, (value) => {
        if (!filter(value)) return;
        clearTimeout(timer);
        off();
        resolve(value);
      });
    });
  }

  emit(name, ...args) {
    for (const fn of [...(this.#listeners.get(name) || [])]) {
      try {
        fn(...args);
      } catch (err) {
        console.warn(`listener for '${name}' failed:`, err);
      }
    }
  }
}
