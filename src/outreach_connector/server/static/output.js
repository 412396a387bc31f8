// The outcome of a Run as the page shows it: the outcome word, a summary line, a list output as a table (JSON:API
// records with their key attributes, or a dropdown's options) and the output as JSON under "Output as JSON".
import { cellText, el, present, readableType } from "./dom.js";

const TABLE_ROWS = 500;      // rows the output table draws; the JSON has them all
// record attributes worth a column in the output table, in this order, when the records have them
const KEY_ATTRIBUTES = ["email", "emails", "title", "company", "state", "stepType", "action", "dueAt", "createdAt"];

// ui: the page's elements {outcome, summary, tableBox, outputJson (its <details>), output (the JSON's <pre>)}
export function createOutputView(ui) {
  function clearResult() {
    ui.outcome.textContent = "";
    ui.outcome.className = "";
    ui.summary.textContent = "";
    ui.tableBox.replaceChildren();
    ui.output.textContent = "";
    ui.outputJson.open = true;
  }

  function showResult(reply) {
    ui.outcome.textContent = reply.outcome;
    ui.outcome.className = reply.outcome;
    const problem = reply.outcome !== "success" && reply.status !== undefined;  // the server refused the call
    ui.output.textContent = problem ? reply.output.message : JSON.stringify(reply.output, null, 2);
    const table = problem ? null : outputTable(reply.output);
    if (table) {
      ui.tableBox.append(table.node);
      ui.outputJson.open = false;  // the table first, the JSON one click away
      ui.summary.textContent = table.summary;
    } else if (problem && reply.status === 400) {
      ui.summary.textContent = "The fields marked below need attention.";
    }
  }

  return { clear: clearResult, show: showResult };
}

// A list output as a table: one body row per record (JSON:API records, or a dropdown's options).
function outputTable(output) {
  if (output && Array.isArray(output.data)) return recordsTable(output.data);
  if (output && Array.isArray(output.result)) {
    return table(["Text", "Value"], output.result.map((o) => [o.text, o.value]), `${output.result.length} options`);
  }
  return null;
}

function recordsTable(records) {
  const attributes = (record) => (record && record.attributes) || {};
  const keys = KEY_ATTRIBUTES.filter((key) => records.some((r) => present(attributes(r)[key])));
  const columns = keys.filter((key) => key !== labelKey(records)).slice(0, 3);
  const rows = records.map((record) => [record.id, recordLabel(attributes(record)),
                                        ...columns.map((key) => attributes(record)[key])]);
  const type = records.length && records[0].type ? readableType(records[0].type).toLowerCase() : "record";
  return table(["ID", "Label", ...columns.map(readableType)], rows,
               `${records.length} ${type} record${records.length === 1 ? "" : "s"}`);
}

function labelKey(records) {
  const first = records.find((r) => r && r.attributes) || {};
  return ["name", "title", "email", "subject"].find((key) => present((first.attributes || {})[key])) || null;
}

function recordLabel(attributes) {
  const full = [attributes.firstName, attributes.lastName].filter(present).join(" ");
  return [attributes.name, full, attributes.title, attributes.email, attributes.subject, attributes.text]
    .find(present) || "—";
}

function table(headings, rows, summary) {
  const shown = rows.slice(0, TABLE_ROWS);
  const caption = rows.length > shown.length ? `${summary} (the first ${shown.length} shown)` : summary;
  const node = el("table", { "data-testid": "output-table" }, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...shown.map((row) => el("tr", {}, ...row.map((cell) => el("td", {}, cellText(cell)))))));
  return { node: el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": summary }, node),
           summary: `${summary}; the JSON is under "Output as JSON".` };
}
