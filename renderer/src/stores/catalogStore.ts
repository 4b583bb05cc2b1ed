/** The node catalog from `listNodes()`, indexed for lookups. */
import { EMPTY_CATALOG, indexCatalog, type CatalogIndex } from '../model/catalog.ts';
import { createStore, useStoreSelector } from './store.ts';

export interface CatalogState {
  index: CatalogIndex;
  loaded: boolean;
  error?: string;
}

export const catalogStore = createStore<CatalogState>({ index: indexCatalog(EMPTY_CATALOG), loaded: false });

export function useCatalogStore<S>(selector: (s: CatalogState) => S): S {
  return useStoreSelector(catalogStore, selector);
}
