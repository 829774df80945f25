// Workflows, fetched once per page load: names for the list and the filter,
// nodes and edges for the graph.
import { api, fetchAll } from './api.js';

let listPromise = null;
const details = new Map();

/** All workflows the caller can see: [{id, name, ...}]. */
export function getWorkflows() {
  if (!listPromise) {
    listPromise = fetchAll('/workflows', {}, { max: 5000, pageSize: 200 }).catch((e) => {
      listPromise = null;
      throw e;
    });
  }
  return listPromise;
}

/** One workflow with its nodes and edges. */
export function getWorkflow(id) {
  if (!details.has(id)) {
    const p = api(`/workflows/${encodeURIComponent(id)}`).catch((e) => {
      details.delete(id);
      throw e;
    });
    details.set(id, p);
  }
  return details.get(id);
}

export function forgetWorkflows() {
  listPromise = null;
  details.clear();
}
