// Small helpers the editor's modules share: building elements without innerHTML, unique ids, readable names,
// and table cells.
let lastId = 0;
export const nextId = (prefix) => `${prefix}-${++lastId}`;

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// ``sequenceState`` -> ``Sequence state``
export function readableType(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function present(value) {
  return value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && !value.length);
}

export function cellText(value) {
  if (!present(value)) return "";
  if (Array.isArray(value)) return value.map(cellText).join(", ");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
