// A control Worker that fails on every request, for seam.test.mjs: its
// fetch handler and its Account object throw, as a crashing deploy would.
export class Account {
  async fetch() {
    throw new Error("control Worker failure (test)");
  }
}

export default {
  async fetch() {
    throw new Error("control Worker failure (test)");
  },
};
