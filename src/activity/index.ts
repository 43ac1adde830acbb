export {
  LocalClock,
  localClock,
  localDaySlot,
  isWeekendDay,
  isValidTimeZone,
  SLOTS_PER_DAY,
  SLOT_SEC,
  type LocalDaySlot,
} from './slots.js';
export {
  ActivityModel,
  OBSERVED_STATION_ID,
  MIN_OBSERVED_DAY_SEC,
  type ActivityModelOptions,
} from './model.js';
