// The seat-surge demo page: plain browser JavaScript talking to the HTTP API of this server only.

/** How often the page polls when Server-Sent Events are unavailable. */
const POLL_INTERVAL_MS = 2000;
/** After the event stream gave up for good, try it again this often (polling meanwhile). */
const LIVE_RETRY_MS = 15_000;
/** Most events kept on the page; older ones stay in the stream, readable through the API. */
const MAX_EVENTS_SHOWN = 500;
/** Most reservations listed. */
const RESERVATIONS_PAGE = 200;
/** How often the countdowns of pending holds are redrawn. */
const COUNTDOWN_TICK_MS = 200;
/**
 * After a hold's due time the page reads it until the server's expirer has expired it (within a
 * fraction of a second, see docs/api.md), this often and for at most this long.
 */
const EXPIRY_READ_MS = 250;
const EXPIRY_WATCH_MS = 10_000;

const $ = (selector) => {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`missing element ${selector}`);
  return element;
};

/** Everything the page knows about the conference on show. */
const current = {
  conferenceId: '',
  /** Position of the last availability shown. */
  position: -1,
  seatTypes: [],
  /** Events loaded so far, oldest first. */
  events: [],
  lastEventPosition: 0,
  /** Distinct event times for the point-in-time slider. */
  moments: [],
  source: undefined,
  pollTimer: undefined,
  retryTimer: undefined,
  refreshing: undefined,
  refreshAgain: false,
  /**
   * A reservation just made or cancelled, and the status the list should show: the reservations
   * view has a checkpoint of its own and may follow the live seats by a moment, so the list is
   * read again until it shows it (a few tries).
   */
  awaited: undefined,
  /** The list's next read while it lags (readAgainWhileBehind). */
  readAgainTimer: undefined,
  /**
   * Holds made on this page, by reservation id, oldest first: the write side's answer, then what
   * later answers and reads say of it.
   */
  holds: new Map(),
};

// ---------------------------------------------------------------- API

/** An answer of the API that is not a success, in words from its Problem document. */
class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/**
 * The operator token, when the server put it in the page: a server on loopback that made its own
 * token does (docs/api.md, "Who may do what"); one started with ADMIN_TOKEN never does, and the
 * operator actions (create a conference, list its reservations and events) are then refused 401.
 */
const OPERATOR_TOKEN = document.querySelector('meta[name="seat-surge-operator-token"]')?.getAttribute('content');

/** The page acts as the operator when it has the token; a reservation's own routes need none (its id is the proof). */
const operatorHeaders = OPERATOR_TOKEN ? { authorization: `Bearer ${OPERATOR_TOKEN}` } : {};

const api = async (method, path, body) => {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...operatorHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, undefined, 'The server cannot be reached.');
  }
  const type = response.headers.get('content-type') ?? '';
  const content = type.includes('json') ? await response.json().catch(() => undefined) : undefined;
  if (!response.ok) throw new ApiError(response.status, content, describeProblem(response, content));
  return { status: response.status, body: content };
};

/** The sentence to show for an error answer: the Problem's `message`, plus what the code calls for. */
const describeProblem = (response, problem) => {
  if (!problem || typeof problem.message !== 'string') return `The server answered ${response.status}.`;
  switch (problem.error) {
    case 'busy': {
      const seconds = response.headers.get('retry-after') ?? '1';
      return `Busy, retry in ${seconds} s. ${problem.message}`;
    }
    case 'unauthorized':
      return `${problem.message} This page has no operator token: the server was started with ADMIN_TOKEN, which it never puts in a page.`;
    case 'hold_expired':
      return `${problem.message} Too late to confirm: hold the seats again.`;
    case 'invalid_request': {
      const issues = Array.isArray(problem.issues) ? problem.issues : [];
      const details = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      return details ? `${problem.message} (${details})` : problem.message;
    }
    default:
      return problem.message;
  }
};

const conferencePath = (conferenceId, rest = '') => `/conferences/${encodeURIComponent(conferenceId)}${rest}`;

// ---------------------------------------------------------------- status line

let statusTimer;
/** Says something in the status line (an aria-live region); errors stay until the next message. */
const say = (text, kind = 'info') => {
  const status = $('#status');
  status.textContent = text;
  status.className = `status status-${kind}`;
  clearTimeout(statusTimer);
  if (kind !== 'error') statusTimer = setTimeout(() => (status.textContent = ''), 8000);
};

/** Says what happened by itself (not in answer to a click), unless an error is on show: it stays. */
const sayAside = (text) => {
  if (!$('#status').classList.contains('status-error')) say(text);
};

const sayError = (error, doing) =>
  say(`${doing}: ${error instanceof ApiError ? error.message : String(error)}`, 'error');

// ---------------------------------------------------------------- rendering helpers

const element = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (name === 'className') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== undefined));
  return node;
};

const formatTime = (iso) => {
  const date = new Date(iso);
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
};

const seatsText = (seats) => seats.map((seat) => `${seat.quantity} ${seat.seatType}`).join(', ');

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A compact table of seat types, for the three views. */
const seatTable = (seatTypes) =>
  element(
    'table',
    { className: 'seats compact' },
    element(
      'thead',
      {},
      element(
        'tr',
        {},
        element('th', { scope: 'col' }, 'Type'),
        element('th', { scope: 'col' }, 'Reserved'),
        element('th', { scope: 'col' }, 'Held'),
        element('th', { scope: 'col' }, 'Remaining'),
      ),
    ),
    element(
      'tbody',
      {},
      ...seatTypes.map((seat) =>
        element(
          'tr',
          { dataset: { seatType: seat.type } },
          element('th', { scope: 'row' }, seat.type),
          element('td', { dataset: { field: 'reserved' } }, String(seat.reserved)),
          element('td', { dataset: { field: 'held' } }, String(seat.held ?? 0)),
          element('td', { dataset: { field: 'remaining' } }, String(seat.remaining)),
        ),
      ),
    ),
  );

const showView = (id, meta, seatTypes) => {
  const view = $(id);
  view.querySelector('[data-field="meta"]').textContent = meta;
  view.querySelector('[data-field="seats"]').replaceChildren(seatTypes ? seatTable(seatTypes) : '');
};

// ---------------------------------------------------------------- conferences

const loadConferences = async () => {
  try {
    const { body } = await api('GET', '/conferences');
    const select = $('#conference-select');
    const chosen = current.conferenceId || select.value;
    const ids = body.conferences.map((conference) => conference.conferenceId);
    if (chosen && !ids.includes(chosen)) ids.push(chosen);
    select.replaceChildren(
      element('option', { value: '' }, ids.length ? '(choose one)' : '(none yet: create one below)'),
      ...ids.map((id) => {
        const conference = body.conferences.find((c) => c.conferenceId === id);
        return element('option', { value: id }, conference ? `${conference.name} (${id})` : id);
      }),
    );
    select.value = chosen;
  } catch (error) {
    sayError(error, 'Could not list the conferences');
  }
};

let seatTypeRows = 0;
const seatTypeRow = (type = '', capacity = '') => {
  const index = seatTypeRows++;
  const remove = element(
    'button',
    { type: 'button', className: 'link', 'aria-label': `Remove seat type ${index + 1}` },
    'Remove',
  );
  const row = element(
    'div',
    { className: 'seat-type-row' },
    element(
      'div',
      { className: 'field' },
      element('label', { for: `seat-type-${index}` }, `Seat type ${index + 1}`),
      element('input', {
        id: `seat-type-${index}`,
        name: 'seat-type',
        value: type,
        autocomplete: 'off',
        spellcheck: 'false',
      }),
    ),
    element(
      'div',
      { className: 'field narrow' },
      element('label', { for: `capacity-${index}` }, 'Capacity'),
      element('input', {
        id: `capacity-${index}`,
        name: 'capacity',
        type: 'number',
        min: '0',
        value: String(capacity),
      }),
    ),
    remove,
  );
  remove.addEventListener('click', () => {
    if ($('#seat-type-rows').children.length > 1) row.remove();
  });
  $('#seat-type-rows').append(row);
};

const createConference = async (event) => {
  event.preventDefault();
  const id = $('#new-conference-id').value.trim();
  const name = $('#new-conference-name').value.trim();
  const seatTypes = [...document.querySelectorAll('.seat-type-row')].map((row) => ({
    type: row.querySelector('input[name="seat-type"]').value.trim(),
    capacity: Number(row.querySelector('input[name="capacity"]').value),
  }));
  try {
    await api('POST', '/conferences', { id, name, seatTypes });
    say(`Created conference ${id}: one ConferenceCreated event in a new stream.`, 'success');
    $('#new-conference-id').value = suggestId();
    await openConference(id);
    await loadConferences();
  } catch (error) {
    sayError(error, 'Could not create the conference');
  }
};

const suggestId = () => `demo-${Math.random().toString(36).slice(2, 7)}`;

// ---------------------------------------------------------------- the conference on show

const openConference = async (conferenceId) => {
  stopLive();
  clearTimeout(current.readAgainTimer);
  Object.assign(current, {
    conferenceId,
    position: -1,
    seatTypes: [],
    events: [],
    lastEventPosition: 0,
    moments: [],
    readAgainTimer: undefined,
    holds: new Map(),
  });
  $('#conference-select').value = conferenceId;
  $('#conference-title').textContent = conferenceId || 'no conference';
  $('#availability tbody').replaceChildren();
  $('#event-list').replaceChildren();
  $('#event-count').textContent = conferenceId ? 'Loading events…' : 'No events loaded.';
  $('#reservations-list').replaceChildren();
  renderHolds();
  $('#reserve-seat-type').replaceChildren();
  Object.assign($('#asof-range'), { max: '0', value: '0' });
  $('#asof-range-label').textContent = '–';
  for (const id of ['#materialised-view', '#replayed-view', '#point-in-time-view']) showView(id, '–');
  updateMoments();
  // The creation form folds away once there is a conference to look at (saves a phone screen).
  $('#create-details').open = !conferenceId;
  if (conferenceId) history.replaceState(null, '', `#conference=${encodeURIComponent(conferenceId)}`);
  if (!conferenceId) return;
  connectLive(conferenceId);
  await pollOnce();
  refreshAround();
};

/** A new view of the live read model arrived (by event stream or poll). */
const showAvailability = (view) => {
  if (view.conferenceId !== current.conferenceId || view.position === current.position) return;
  current.position = view.position;
  current.seatTypes = view.seatTypes;
  renderAvailability(view);
  showView('#materialised-view', `position ${view.position}`, view.seatTypes);
  fillSeatTypeChoice(view.seatTypes);
  refreshAround();
};

const renderAvailability = (view) => {
  $('#conference-title').textContent = view.name ? `${view.name} (${view.conferenceId})` : view.conferenceId;
  $('#availability tbody').replaceChildren(
    ...view.seatTypes.map((seat) => {
      const held = seat.held ?? 0;
      const share = (seats) => (seat.capacity === 0 ? 0 : Math.round((seats / seat.capacity) * 100));
      return element(
        'tr',
        { dataset: { seatType: seat.type } },
        element('th', { scope: 'row' }, seat.type),
        element('td', { dataset: { field: 'capacity' } }, String(seat.capacity)),
        element('td', { dataset: { field: 'reserved' } }, String(seat.reserved)),
        element('td', { dataset: { field: 'held' }, className: held > 0 ? 'held' : undefined }, String(held)),
        element(
          'td',
          { dataset: { field: 'remaining' }, className: seat.remaining === 0 ? 'sold-out' : undefined },
          String(seat.remaining),
        ),
        element(
          'td',
          { 'aria-hidden': 'true', className: 'bar-cell' },
          element(
            'span',
            { className: 'bar', title: `${seat.reserved} reserved and ${held} held of ${seat.capacity}` },
            // A conference with no seats of a type is sold out from the start: a full bar.
            element('span', {
              className: 'bar-fill',
              dataset: { field: 'share-reserved' },
              style: `width: ${seat.capacity === 0 ? 100 : share(seat.reserved)}%`,
            }),
            element('span', {
              className: 'bar-held',
              dataset: { field: 'share-held' },
              style: `width: ${share(held)}%`,
            }),
          ),
        ),
      );
    }),
  );
};

const fillSeatTypeChoice = (seatTypes) => {
  const select = $('#reserve-seat-type');
  const chosen = select.value;
  const types = seatTypes.map((seat) => seat.type);
  if ([...select.options].map((option) => option.value).join() === types.join()) return;
  select.replaceChildren(...types.map((type) => element('option', { value: type }, type)));
  if (types.includes(chosen)) select.value = chosen;
};

/** Reads that follow a change: new events, reservations, the replayed view. One at a time, coalesced. */
const refreshAround = () => {
  if (!current.conferenceId) return;
  if (current.refreshing) {
    current.refreshAgain = true;
    return;
  }
  const conferenceId = current.conferenceId;
  current.refreshing = Promise.allSettled([
    loadNewEvents(conferenceId),
    loadReservations(conferenceId),
    loadReplayed(conferenceId),
  ]).then(() => {
    current.refreshing = undefined;
    if (current.refreshAgain) {
      current.refreshAgain = false;
      refreshAround();
    }
  });
};

// ---------------------------------------------------------------- live updates: SSE, polling as fallback

const setMode = (mode) => {
  const indicator = $('#live-mode');
  indicator.textContent = mode;
  indicator.className = `mode mode-${mode}`;
};

const connectLive = (conferenceId) => {
  if (!('EventSource' in window)) {
    startPolling();
    return;
  }
  setMode('connecting');
  const source = new EventSource(conferencePath(conferenceId, '/stream'));
  current.source = source;
  source.addEventListener('open', () => {
    stopPolling();
    setMode('live');
  });
  source.addEventListener('availability', (message) => {
    setMode('live');
    showAvailability(JSON.parse(message.data));
  });
  source.addEventListener('error', () => {
    if (current.source !== source) return;
    // The browser retries a dropped stream by itself; until it is back, poll.
    startPolling();
    if (source.readyState === EventSource.CLOSED) {
      current.source = undefined;
      current.retryTimer = setTimeout(
        () => current.conferenceId === conferenceId && connectLive(conferenceId),
        LIVE_RETRY_MS,
      );
    }
  });
};

const startPolling = () => {
  setMode('polling');
  if (current.pollTimer) return;
  current.pollTimer = setInterval(pollOnce, POLL_INTERVAL_MS);
};

const stopPolling = () => {
  clearInterval(current.pollTimer);
  current.pollTimer = undefined;
};

const stopLive = () => {
  current.source?.close();
  current.source = undefined;
  clearTimeout(current.retryTimer);
  stopPolling();
  setMode('off');
};

const pollOnce = async () => {
  const conferenceId = current.conferenceId;
  if (!conferenceId) return;
  try {
    const { body } = await api('GET', conferencePath(conferenceId, '/availability'));
    showAvailability(body);
  } catch (error) {
    // A conference just created may not be projected yet: the next update brings it.
    if (!(error instanceof ApiError && error.status === 404)) sayError(error, 'Could not read the availability');
  }
};

// ---------------------------------------------------------------- reserve and cancel

/** The reservation id and seats the reserve form asks for: its Reserve and Hold buttons share them. */
const bookingInput = () => {
  const reservationId = $('#reserve-id').value.trim();
  return {
    ...(reservationId ? { reservationId } : {}),
    seats: [{ seatType: $('#reserve-seat-type').value, quantity: Number($('#reserve-quantity').value) }],
  };
};

const reserve = async () => {
  if (!current.conferenceId) return say('Pick or create a conference first.', 'error');
  try {
    const { status, body } = await api('POST', conferencePath(current.conferenceId, '/reservations'), bookingInput());
    say(
      status === 201
        ? `Reserved ${seatsText(body.seats)} (reservation ${body.reservationId}): one SeatsReserved event appended.`
        : `Reservation ${body.reservationId} was already made: the repeat appended nothing.`,
      'success',
    );
    $('#cancel-id').value = body.reservationId;
    current.awaited = { reservationId: body.reservationId, status: 'reserved', tries: 20 };
  } catch (error) {
    sayError(error, 'Not reserved');
  }
};

const cancel = async (reservationId) => {
  if (!current.conferenceId) return say('Pick or create a conference first.', 'error');
  try {
    await api('DELETE', conferencePath(current.conferenceId, `/reservations/${encodeURIComponent(reservationId)}`));
    current.awaited = { reservationId, status: 'cancelled', tries: 20 };
    say(`Cancelled reservation ${reservationId}: its seats are free again.`, 'success');
  } catch (error) {
    sayError(error, 'Not cancelled');
  }
};

const loadReservations = async (conferenceId) => {
  try {
    const { body } = await api('GET', conferencePath(conferenceId, `/reservations?limit=${RESERVATIONS_PAGE}`));
    if (conferenceId !== current.conferenceId) return;
    const list = $('#reservations-list');
    const items = body.reservations.map((reservation) => reservationItem(reservation, reservationActions(reservation)));
    list.replaceChildren(...items);
    if (items.length === 0) list.append(element('li', { className: 'empty' }, 'No reservations yet.'));
    if (body.next) list.append(element('li', { className: 'empty' }, `Showing the first ${RESERVATIONS_PAGE} by id.`));
    for (const reservation of body.reservations) followHold(reservation);
    readAgainWhileBehind(conferenceId, body.reservations);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) sayError(error, 'Could not list the reservations');
  }
};

/**
 * Reads the list again shortly while it lags what the page knows: the reservations view has a
 * checkpoint of its own and may trail the live seats by a moment. One read waits at a time.
 */
const readAgainWhileBehind = (conferenceId, reservations) => {
  const behind = awaitingReservation(reservations) || awaitingExpiry(reservations);
  if (!behind || current.readAgainTimer) return;
  current.readAgainTimer = setTimeout(() => {
    current.readAgainTimer = undefined;
    if (conferenceId === current.conferenceId) loadReservations(conferenceId);
  }, 250);
};

/** Whether the list does not show the awaited reservation's status yet (for a few reads). */
const awaitingReservation = (reservations) => {
  const awaited = current.awaited;
  if (!awaited) return false;
  const shown = reservations.find((reservation) => reservation.reservationId === awaited.reservationId);
  if (shown?.status === awaited.status || awaited.tries-- <= 0) {
    current.awaited = undefined;
    return false;
  }
  return true;
};

/**
 * Whether the list shows a hold past its due time as still held: the server's expirer comes
 * within a fraction of a second, the view a moment later. Not read for longer than
 * EXPIRY_WATCH_MS past the due time, in case no expirer runs.
 */
const awaitingExpiry = (reservations) =>
  reservations.some((reservation) => {
    const overdueMs = Date.now() - Date.parse(reservation.expiresAt);
    return reservation.status === 'held' && overdueMs >= 0 && overdueMs < EXPIRY_WATCH_MS;
  });

/**
 * One reservation in a list: its id, seats and status, a pending hold's countdown or an expired
 * one's lateness, and the buttons given.
 */
const reservationItem = (reservation, buttons) =>
  element(
    'li',
    { dataset: { reservationId: reservation.reservationId, status: reservation.status } },
    element('code', {}, reservation.reservationId),
    ` ${seatsText(reservation.seats)} `,
    element('span', { className: `badge badge-${reservation.status}` }, reservation.status),
    holdProgress(reservation),
    buttons.length > 0 ? element('span', { className: 'actions' }, ...buttons) : undefined,
  );

/** What can be done to a reservation of the list: cancel one that is reserved, settle a pending hold. */
const reservationActions = (reservation) => {
  const { reservationId } = reservation;
  switch (reservation.status) {
    case 'reserved':
    case 'confirmed':
      return [actionButton('Cancel', `Cancel reservation ${reservationId}`, () => cancel(reservationId))];
    case 'held':
      return holdActions(reservation);
    default:
      return [];
  }
};

/** A small button of a reservation's line, named for a screen reader by `label`. */
const actionButton = (text, label, onClick) => {
  const button = element('button', { type: 'button', className: 'small', 'aria-label': label }, text);
  button.addEventListener('click', onClick);
  return button;
};

// ---------------------------------------------------------------- holds: the checkout

const hold = async () => {
  const conferenceId = current.conferenceId;
  if (!conferenceId) return say('Pick or create a conference first.', 'error');
  const holdSeconds = $('#hold-seconds').value.trim();
  try {
    const { status, body } = await api('POST', conferencePath(conferenceId, '/holds'), {
      ...bookingInput(),
      // None given: the server's default (HOLD_DEFAULT_SECONDS).
      ...(holdSeconds ? { holdSeconds: Number(holdSeconds) } : {}),
    });
    if (conferenceId !== current.conferenceId) return;
    rememberHold(body);
    say(
      status === 201
        ? `Held ${seatsText(body.seats)} until ${formatTime(body.expiresAt)} (hold ${body.reservationId}): ` +
            'one SeatsHeld event appended. Confirm before the countdown ends.'
        : `Hold ${body.reservationId} was already made: the repeat appended nothing, and its due time stands.`,
      'success',
    );
    current.awaited = { reservationId: body.reservationId, status: body.status, tries: 20 };
  } catch (error) {
    sayError(error, 'Not held');
  }
};

const confirmHold = async (reservationId) => {
  const conferenceId = current.conferenceId;
  try {
    const { body } = await api(
      'POST',
      conferencePath(conferenceId, `/holds/${encodeURIComponent(reservationId)}/confirm`),
    );
    if (current.holds.has(reservationId)) rememberHold(body);
    current.awaited = { reservationId, status: 'confirmed', tries: 20 };
    say(
      `Confirmed hold ${reservationId}: its ${seatsText(body.seats)} are reserved now (one HoldConfirmed event appended).`,
      'success',
    );
  } catch (error) {
    sayError(error, 'Not confirmed');
    // At or past its due time: show the hold as the server has it once its expirer has come.
    if (error instanceof ApiError && error.problem?.error === 'hold_expired') watchExpiry(conferenceId, reservationId);
  }
};

const releaseHold = async (reservationId) => {
  const conferenceId = current.conferenceId;
  try {
    const { body } = await api('DELETE', conferencePath(conferenceId, `/holds/${encodeURIComponent(reservationId)}`));
    if (current.holds.has(reservationId)) rememberHold(body);
    current.awaited = { reservationId, status: body.status, tries: 20 };
    say(
      body.status === 'expired'
        ? `Hold ${reservationId} had expired already: its seats were back on sale.`
        : `Released hold ${reservationId}: its seats are back on sale (one HoldReleased event appended).`,
      'success',
    );
  } catch (error) {
    sayError(error, 'Not released');
  }
};

/** Confirm and release, for a pending hold. */
const holdActions = ({ reservationId }) => [confirmButton(reservationId), releaseButton(reservationId)];
const confirmButton = (reservationId) =>
  actionButton('Confirm', `Confirm hold ${reservationId}`, () => confirmHold(reservationId));
const releaseButton = (reservationId) =>
  actionButton('Release', `Release hold ${reservationId}`, () => releaseHold(reservationId));

/** Keeps what the server said of a hold made here (an answer, or a read of the view) and redraws the holds. */
const rememberHold = (reservation) => {
  const known = current.holds.get(reservation.reservationId);
  current.holds.set(reservation.reservationId, { ...known, ...reservation });
  renderHolds();
};

/** How far along its life a reservation is: the view may lag an answer, and must not undo it. */
const STAGE = { held: 0, reserved: 1, confirmed: 1, released: 1, expired: 1, cancelled: 2 };

/**
 * A hold of this page as the reservations view shows it, kept when the view has seen more than
 * the page: the expiry above all, which no answer to this page tells.
 */
const followHold = (reservation) => {
  const known = current.holds.get(reservation.reservationId);
  if (!known || STAGE[reservation.status] <= STAGE[known.status]) return;
  rememberHold(reservation);
  if (reservation.status === 'expired') {
    sayAside(
      `Hold ${reservation.reservationId} ${expiryText(reservation)}: one HoldExpired event, and its seats are back on sale.`,
    );
  }
};

/**
 * The holds made here, newest first, with their countdowns. An expired one keeps its Confirm
 * button: pressing it shows the server refusing a confirm once the time is up.
 */
const renderHolds = () => {
  const items = [...current.holds.values()]
    .reverse()
    .map((reservation) =>
      reservationItem(
        reservation,
        reservation.status === 'held'
          ? holdActions(reservation)
          : reservation.status === 'expired'
            ? [confirmButton(reservation.reservationId)]
            : [],
      ),
    );
  $('#hold-list').replaceChildren(
    ...(items.length > 0 ? items : [element('li', { className: 'empty' }, 'No holds yet.')]),
  );
};

/** A pending hold's countdown to its due time, or how late an expired one was expired. */
const holdProgress = (reservation) => {
  if (reservation.status === 'held' && reservation.expiresAt) {
    const countdown = element('span', { className: 'countdown', dataset: { field: 'countdown' } });
    countdown.dataset.expiresAt = reservation.expiresAt;
    drawCountdown(countdown);
    return countdown;
  }
  if (reservation.status === 'expired' && reservation.expiredAt) {
    return element('span', { className: 'meta', dataset: { field: 'expired' } }, expiryText(reservation));
  }
  return undefined;
};

const expiryText = ({ expiresAt, expiredAt }) =>
  `expired at ${formatTime(expiredAt)}, ${Date.parse(expiredAt) - Date.parse(expiresAt)} ms after its due time`;

/** Time left as m:ss, counted by this browser's clock; at zero the server's expirer is due. */
const drawCountdown = (countdown) => {
  const left = Math.ceil((Date.parse(countdown.dataset.expiresAt) - Date.now()) / 1000);
  countdown.classList.toggle('due', left <= 0);
  countdown.textContent =
    left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left` : 'time is up: expiring…';
};

/** Redraws every countdown; a hold made here whose time is up is read until the server has expired it. */
const tickCountdowns = () => {
  for (const countdown of document.querySelectorAll('.countdown')) drawCountdown(countdown);
  for (const reservation of current.holds.values()) {
    if (reservation.status === 'held' && Date.parse(reservation.expiresAt) <= Date.now()) {
      watchExpiry(current.conferenceId, reservation.reservationId);
    }
  }
};

/**
 * Reads a hold made here, once its time is up, until the reservations view no longer shows it
 * held: expired by the server's expirer, or confirmed or released just before. Gives up after
 * EXPIRY_WATCH_MS (no expirer running), leaving the countdown at zero.
 */
const watchExpiry = async (conferenceId, reservationId) => {
  const watched = current.holds.get(reservationId);
  if (!watched || watched.watched) return;
  watched.watched = true;
  const path = conferencePath(conferenceId, `/reservations/${encodeURIComponent(reservationId)}`);
  const deadline = Date.now() + EXPIRY_WATCH_MS;
  while (conferenceId === current.conferenceId && Date.now() < deadline) {
    try {
      const { body } = await api('GET', path);
      if (conferenceId !== current.conferenceId) return;
      if (body.status !== 'held') return followHold(body);
    } catch (error) {
      // Not in the view yet is read again; anything else ends the watch.
      if (!(error instanceof ApiError && error.status === 404)) {
        sayError(error, `Could not read hold ${reservationId}`);
        return;
      }
    }
    await delay(EXPIRY_READ_MS);
  }
};

// ---------------------------------------------------------------- the event stream

const loadNewEvents = async (conferenceId) => {
  try {
    for (;;) {
      const { body } = await api(
        'GET',
        conferencePath(conferenceId, `/events?after=${current.lastEventPosition}&limit=1000`),
      );
      if (conferenceId !== current.conferenceId) return;
      if (body.events.length > 0) addEvents(body.events);
      if (!body.next) break;
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) sayError(error, 'Could not read the event stream');
  }
};

const addEvents = (events) => {
  current.events.push(...events);
  current.lastEventPosition = events.at(-1).position;
  const list = $('#event-list');
  list.prepend(...events.map(eventItem).reverse());
  while (list.children.length > MAX_EVENTS_SHOWN) list.lastElementChild.remove();
  const count = current.events.length;
  $('#event-count').textContent =
    `${count} event${count === 1 ? '' : 's'}, the last at position ${current.lastEventPosition}.`;
  updateMoments();
};

const eventItem = (event) =>
  element(
    'li',
    { className: `event event-${event.type}`, dataset: { position: String(event.position) } },
    element(
      'div',
      { className: 'event-head' },
      element('strong', {}, event.type),
      element('span', {}, `version ${event.version}`),
      element('span', {}, `position ${event.position}`),
      element('time', { datetime: event.recordedAt }, formatTime(event.recordedAt)),
    ),
    element('code', { className: 'event-data' }, JSON.stringify(event.data)),
  );

// ---------------------------------------------------------------- replayed and point-in-time views

const loadReplayed = async (conferenceId) => {
  try {
    const { body } = await api('GET', conferencePath(conferenceId, '/availability?consistency=strong'));
    if (conferenceId !== current.conferenceId) return;
    showView('#replayed-view', `version ${body.version} · position ${body.position}`, body.seatTypes);
  } catch (error) {
    sayError(error, 'Could not replay the conference');
  }
};

/**
 * Keeps the slider over the distinct times of the events; a slider at its end follows new events.
 * `asOf` an event's recordedAt includes that event.
 */
const updateMoments = () => {
  const range = $('#asof-range');
  const following = Number(range.value) >= current.moments.length - 1;
  current.moments = [...new Set(current.events.map((event) => event.recordedAt))];
  range.max = String(Math.max(0, current.moments.length - 1));
  range.disabled = current.moments.length === 0;
  if (following && current.moments.length > 0) {
    range.value = range.max;
    showMoment();
  } else {
    labelMoment();
  }
};

const momentTime = (index) => current.moments[index];

/** Says which moment the slider stands at: after how many of the events. */
const labelMoment = () => {
  const recordedAt = current.moments[Number($('#asof-range').value)];
  if (!recordedAt) return;
  const eventsUpTo = current.events.filter((event) => event.recordedAt <= recordedAt).length;
  $('#asof-range-label').textContent =
    `after ${eventsUpTo} of ${current.events.length} events (${formatTime(recordedAt)})`;
};

const showMoment = () => {
  const index = Number($('#asof-range').value);
  if (!current.moments[index]) return;
  labelMoment();
  const asOf = momentTime(index);
  $('#asof-input').value = toLocalInput(new Date(asOf));
  loadPointInTime(asOf);
};

/** A `datetime-local` value (local time, no zone) for a date, to the millisecond. */
const toLocalInput = (date) => {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 23);
};

let pointInTimeRequest = 0;
const loadPointInTime = async (asOf) => {
  const conferenceId = current.conferenceId;
  const request = ++pointInTimeRequest;
  try {
    const { body } = await api('GET', conferencePath(conferenceId, `/availability?asOf=${encodeURIComponent(asOf)}`));
    if (request !== pointInTimeRequest || conferenceId !== current.conferenceId) return;
    showView(
      '#point-in-time-view',
      `as of ${asOf} · version ${body.version} · position ${body.position}`,
      body.seatTypes,
    );
  } catch (error) {
    if (request !== pointInTimeRequest) return;
    const before = error instanceof ApiError && error.status === 404;
    showView('#point-in-time-view', before ? `as of ${asOf}: the conference did not exist yet` : error.message);
  }
};

// ---------------------------------------------------------------- surge

/** Sends `total` single-seat bookings at one design, at most `concurrency` at a time, and counts the answers. */
const surge = async (basePath, conferenceId, { total, concurrency }) => {
  const counts = { sold: 0, refused: 0, busy: 0, other: 0 };
  let sent = 0;
  const started = performance.now();
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      try {
        const response = await fetch(`${basePath}/${conferenceId}/reservations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] }),
        });
        await response.body?.cancel();
        if (response.status === 201 || response.status === 200) counts.sold += 1;
        else if (response.status === 409) counts.refused += 1;
        else if (response.status === 503) counts.busy += 1;
        else counts.other += 1;
      } catch {
        counts.other += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { ...counts, elapsedMs: performance.now() - started };
};

const runSurge = async (event) => {
  event.preventDefault();
  const seats = Number($('#surge-seats').value);
  const total = Number($('#surge-bookings').value);
  const concurrency = Number($('#surge-concurrency').value);
  const button = $('#surge-button');
  button.disabled = true;
  const tbody = $('#surge-results tbody');
  tbody.replaceChildren();
  const stamp = Date.now().toString(36);
  const designs = [
    { name: 'event-sourced', design: 'event-sourced', basePath: '/conferences', conferenceId: `surge-es-${stamp}` },
    { name: 'CRUD, naive', design: 'crud', basePath: '/crud/conferences', conferenceId: `surge-crud-${stamp}` },
    {
      name: 'CRUD, one round trip',
      design: 'crud-atomic',
      basePath: '/crud-atomic/conferences',
      conferenceId: `surge-crud-atomic-${stamp}`,
    },
  ];
  try {
    for (const design of designs) {
      say(`Surge: ${total} bookings at the ${design.name} design…`);
      await api('POST', design.basePath, {
        id: design.conferenceId,
        name: `Surge ${stamp} (${design.name})`,
        seatTypes: [{ type: 'standard', capacity: seats }],
      });
      // One design at a time, so they do not compete for the browser's connections.
      const result = await surge(design.basePath, design.conferenceId, { total, concurrency });
      tbody.append(surgeRow(design, result, seats));
    }
    say(`Surge done: each design should have sold exactly ${Math.min(seats, total)} seats.`, 'success');
    await loadConferences();
  } catch (error) {
    sayError(error, 'The surge stopped');
  } finally {
    button.disabled = false;
  }
};

const surgeRow = (design, result, seats) =>
  element(
    'tr',
    { dataset: { design: design.design } },
    element('th', { scope: 'row' }, design.name),
    element('td', {}, element('code', {}, design.conferenceId)),
    element('td', { dataset: { field: 'sold' } }, `${result.sold} of ${seats}`),
    element('td', { dataset: { field: 'refused' } }, String(result.refused)),
    element('td', { dataset: { field: 'busy' } }, String(result.busy)),
    element('td', { dataset: { field: 'other' } }, String(result.other)),
    element('td', { dataset: { field: 'elapsed' } }, `${Math.round(result.elapsedMs)} ms`),
  );

// ---------------------------------------------------------------- start

const start = () => {
  $('#new-conference-id').value = suggestId();
  seatTypeRow('standard', 100);
  seatTypeRow('vip', 10);
  $('#add-seat-type').addEventListener('click', () => seatTypeRow());
  $('#create-form').addEventListener('submit', createConference);
  $('#conference-select').addEventListener('change', (event) => openConference(event.target.value));
  $('#refresh-conferences').addEventListener('click', loadConferences);
  $('#reserve-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (event.submitter?.id === 'hold-submit') hold();
    else reserve();
  });
  $('#cancel-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const reservationId = $('#cancel-id').value.trim();
    if (reservationId) cancel(reservationId);
  });
  $('#asof-range').addEventListener('input', showMoment);
  $('#asof-input').addEventListener('change', (event) => {
    const value = event.target.value;
    if (!value) return;
    $('#asof-range-label').textContent = 'the time chosen below';
    loadPointInTime(new Date(value).toISOString());
  });
  $('#surge-form').addEventListener('submit', runSurge);
  setInterval(tickCountdowns, COUNTDOWN_TICK_MS);

  const fromHash = new URLSearchParams(location.hash.slice(1)).get('conference');
  loadConferences().then(() => fromHash && openConference(fromHash));
};

start();
