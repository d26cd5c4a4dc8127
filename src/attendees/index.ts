export { createAttendeeKeys, type AttendeeKey, type AttendeeKeys } from './attendee-keys.js';
export { createAttendees, type Attendees, type RevealedAttendee } from './attendees.js';
export type { PersonalData } from './personal-data.js';
