/** Favourite stations, kept in this browser only (localStorage). */
const KEY = 'dockwatch.favourites';

export function favourites(): string[] {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((c): c is string => typeof c === 'string') : [];
  } catch {
    return [];
  }
}

export function isFavourite(code: string): boolean {
  return favourites().includes(code);
}

export function toggleFavourite(code: string): boolean {
  const list = favourites();
  const i = list.indexOf(code);
  if (i >= 0) list.splice(i, 1);
  else list.push(code);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: nothing to keep
  }
  return i < 0;
}
