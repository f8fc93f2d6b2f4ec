import { ScaffoldingError } from './schematic-tree.interface';

/** The names a resource is written with, all derived from the one given on the command line. */
export interface ResourceNames {
  /** `purchase-orders`: folder, file names and route path. */
  readonly fileName: string;
  /** `purchase-order`: file names of one item. */
  readonly singularFileName: string;
  /** `PurchaseOrders`: controller, service and module class prefix. */
  readonly className: string;
  /** `PurchaseOrder`: entity, resource, DTO and problem class prefix. */
  readonly singularClassName: string;
  /** `purchaseOrders`: the `_embedded` rel and variable names. */
  readonly propertyName: string;
  /** `purchase order`: words for messages. */
  readonly words: string;
  readonly singularWords: string;
}

/** Splits `PurchaseOrders`, `purchase_orders` or `purchase-orders` into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z\d]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/** English singular of a plural noun, for the usual regular forms. */
export function singular(word: string): string {
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  return word;
}

const capitalize = (word: string) => word[0].toUpperCase() + word.slice(1);

export function resourceNames(name: string): ResourceNames {
  const all = words(name.split(/[\\/]/).pop() ?? '');
  if (all.length === 0 || !/^[a-z]/.test(all[0])) {
    throw new ScaffoldingError(
      `"${name}" is not a resource name: use letters and digits, starting with a letter (e.g. orders or purchase-orders).`,
    );
  }
  const one = [...all.slice(0, -1), singular(all[all.length - 1])];
  return {
    fileName: all.join('-'),
    singularFileName: one.join('-'),
    className: all.map(capitalize).join(''),
    singularClassName: one.map(capitalize).join(''),
    propertyName: all[0] + all.slice(1).map(capitalize).join(''),
    words: all.join(' '),
    singularWords: one.join(' '),
  };
}
