package graph

// The cost table: what each field fetches from Livestorm (see cost.go). A field added
// to the schema that can reach Livestorm needs a row here; TestCostTableCoversTheSchema
// says which.

// defaultItems bounds lists that have no `first` (an event's tags, its registration
// fields) when something under them is priced per item.
const defaultItems = 100

// walkPages is the pages assumed for a walk of an unfiltered list: Livestorm pages hold
// 50 team members or attributes, which covers almost every workspace; a larger one
// spends one more call per further 50 on items past the first page.
const walkPages = 1

// CostTable says, per "Type.field", what resolving the field fetches. Fields that return
// leaves (scalars, enums), connection plumbing (XConnection.nodes/edges, XEdge.node) and
// types in EmbeddedTypes need no row. The rows follow the resolvers and package loaders:
// change one, change the other.
var CostTable = map[string]FieldCost{
	"Query.event":            {Fetch: FetchLookup, Arg: "id"},
	"Query.events":           {Fetch: FetchPages},
	"Query.session":          {Fetch: FetchLookup, Arg: "id"},
	"Query.sessions":         {Fetch: FetchPages},
	"Query.person":           {Fetch: FetchLookup, Arg: "id"},
	"Query.people":           {Fetch: FetchPages},
	"Query.registration":     {Fetch: FetchLookup, Arg: "sessionId,personId", Child: []Rel{Loaded("person")}},
	"Query.node":             {Fetch: FetchLookup, Arg: "id"},  // one call per id (Users/Webhooks: a walk of one page)
	"Query.nodes":            {Fetch: FetchLookup, Arg: "ids"}, // one lookup per distinct id
	"Query.users":            {Fetch: FetchPages},
	"Query.webhooks":         {Fetch: FetchPages},
	"Query.job":              {Fetch: FetchLookup, Arg: "id"},
	"Query.organization":     {Fetch: FetchOnce},
	"Query.peopleAttributes": {Fetch: FetchPages},
	"Query.rateLimit":        {Fetch: FetchTenant},

	// The event document embeds its sessions and tags (include=sessions,tags), and
	// loading it primes every session: what hangs off those costs nothing more.
	"Event.owner":                 {Fetch: FetchWalk, List: "Query.users", Pages: walkPages},
	"Event.sessions":              {Fetch: FetchSlice, Child: []Rel{Self("event")}},
	"Event.people":                {Fetch: FetchPages},
	"Event.registrations":         {Fetch: FetchPages, Child: []Rel{Self("event"), Loaded("session"), Loaded("person")}}, // the event embeds its sessions
	"RegistrationField.attribute": {Fetch: FetchWalk, List: "Query.peopleAttributes", Pages: walkPages},
	"Session.event":               {Fetch: FetchRelated, Rel: "event"},
	"Session.people":              {Fetch: FetchPages},
	"Session.registrations":       {Fetch: FetchPages, Child: []Rel{Self("session"), Inherit("event"), Loaded("person")}},
	"Registration.person":         {Fetch: FetchNone}, // the registration row is the person's
	"Registration.answers":        {Fetch: FetchNone},
	"Registration.session":        {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"Registration.event":          {Fetch: FetchRelated, Rel: "event"},
	"Session.recordings":          {Fetch: FetchPages, Child: []Rel{Self("session")}},
	"Session.chatMessages":        {Fetch: FetchPages, Child: []Rel{Loaded("author")}},                     // include=people
	"Session.questions":           {Fetch: FetchPages, Child: []Rel{Loaded("asker"), Loaded("responder")}}, // include=asker,responder
	"Recording.session":           {Fetch: FetchRelated, Rel: "session"},
	"ChatMessage.author":          {Fetch: FetchRelated, Rel: "author"},
	"Question.asker":              {Fetch: FetchRelated, Rel: "asker"},
	"Question.responder":          {Fetch: FetchRelated, Rel: "responder"},
	"Job.tasks":                   {Fetch: FetchOnce, Items: 50}, // bulk jobs hold at most 50 tasks
	"JobTask.person":              {Fetch: FetchRelated, Rel: "person"},

	// Mutations: a write (never retried, never shared), then what each resolver reads.
	"Mutation.createEvent":                   {Fetch: FetchWrite, Calls: 2}, // + the event when Livestorm's answer lacks its sessions
	"Mutation.updateEvent":                   {Fetch: FetchWrite, Calls: 2}, // + the event (the PATCH answer embeds no sessions)
	"Mutation.deleteEvent":                   {Fetch: FetchWrite, Calls: 1},
	"Mutation.addEventTag":                   {Fetch: FetchWrite, Calls: 1},
	"Mutation.removeEventTag":                {Fetch: FetchWrite, Calls: 2}, // + the event, to name the tag removed
	"Mutation.createSession":                 {Fetch: FetchWrite, Calls: 1},
	"Mutation.updateSession":                 {Fetch: FetchWrite, Calls: 1},
	"Mutation.deleteSession":                 {Fetch: FetchWrite, Calls: 2}, // + the session, to find its event
	"Mutation.registerPerson":                {Fetch: FetchWrite, Calls: 1},
	"Mutation.updateRegistration":            {Fetch: FetchWrite, Calls: 1},
	"Mutation.unregisterPerson":              {Fetch: FetchWrite, Calls: 2}, // + the session, to find its event
	"Mutation.bulkRegister":                  {Fetch: FetchWrite, Calls: 1},
	"Mutation.inviteUser":                    {Fetch: FetchWrite, Calls: 1},
	"Mutation.removeUser":                    {Fetch: FetchWrite, Calls: 1},
	"Mutation.createWebhook":                 {Fetch: FetchWrite, Calls: 1},
	"Mutation.deleteWebhook":                 {Fetch: FetchWrite, Calls: 1},
	"CreateEventPayload.event":               {Fetch: FetchNone},
	"UpdateEventPayload.event":               {Fetch: FetchNone},
	"EventTagPayload.event":                  {Fetch: FetchRelated, Rel: "event"},
	"CreateSessionPayload.session":           {Fetch: FetchNone, Child: []Rel{Inherit("event")}},
	"CreateSessionPayload.event":             {Fetch: FetchRelated, Rel: "event"},
	"UpdateSessionPayload.session":           {Fetch: FetchNone},
	"DeleteSessionPayload.event":             {Fetch: FetchRelated, Rel: "event"},
	"RegisterPersonPayload.registration":     {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"RegisterPersonPayload.session":          {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"UpdateRegistrationPayload.registration": {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"UpdateRegistrationPayload.session":      {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"UnregisterPersonPayload.session":        {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"BulkRegisterPayload.job":                {Fetch: FetchNone},
	"InviteUserPayload.user":                 {Fetch: FetchNone},
	"CreateWebhookPayload.webhook":           {Fetch: FetchNone},

	// Subscriptions: priced per event. The payload carries the person and the job; the
	// session and event are read afresh (the event through the session when the delivery
	// names only the session).
	"Subscription.sessionChanged":      {Fetch: FetchTenant},
	"Subscription.registrationCreated": {Fetch: FetchTenant},
	"Subscription.attendanceRecorded":  {Fetch: FetchTenant},
	"Subscription.eventChanged":        {Fetch: FetchTenant},
	"Subscription.replayWatched":       {Fetch: FetchTenant},
	"Subscription.jobEnded":            {Fetch: FetchTenant},
	"Subscription.livestormEvents":     {Fetch: FetchTenant},
	"SessionChange.session":            {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"SessionChange.event":              {Fetch: FetchRelated, Rel: "event", Via: "session"},
	"RegistrationEvent.registration":   {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"RegistrationEvent.person":         {Fetch: FetchNone},
	"RegistrationEvent.session":        {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"RegistrationEvent.event":          {Fetch: FetchRelated, Rel: "event", Via: "session"},
	"AttendanceEvent.registration":     {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"AttendanceEvent.person":           {Fetch: FetchNone},
	"AttendanceEvent.session":          {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"AttendanceEvent.event":            {Fetch: FetchRelated, Rel: "event", Via: "session"},
	"EventChange.event":                {Fetch: FetchRelated, Rel: "event"},
	"ReplayEvent.registration":         {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"ReplayEvent.person":               {Fetch: FetchNone},
	"ReplayEvent.session":              {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"ReplayEvent.event":                {Fetch: FetchRelated, Rel: "event", Via: "session"},
	"JobEvent.job":                     {Fetch: FetchRelated, Rel: "job"},
	"LivestormEvent.event":             {Fetch: FetchRelated, Rel: "event", Via: "session"},
	"LivestormEvent.session":           {Fetch: FetchRelated, Rel: "session", Child: []Rel{Inherit("event")}},
	"LivestormEvent.registration":      {Fetch: FetchNone, Child: []Rel{Inherit("session"), Inherit("event")}},
	"LivestormEvent.person":            {Fetch: FetchNone},
	"LivestormEvent.job":               {Fetch: FetchRelated, Rel: "job"},
}

// EmbeddedTypes are object types that only ever come inside their parent's document:
// fields returning them fetch nothing and need no CostTable row (their own fields still
// do when they reach Livestorm, like RegistrationField.attribute).
var EmbeddedTypes = map[string]bool{
	"PageInfo": true, "RateLimit": true, "UpstreamError": true, "Tag": true,
	"RegistrationField": true, "RegistrantDetail": true, "RegistrantFieldValue": true,
	"Utm": true, "Device": true, "GeoLocation": true, "ReplayViewDetail": true,
	"PeopleAttributeOption": true,
}
