package livestorm_test

import (
	"context"
	"encoding/json"
	"iter"
	"log/slog"
	"net/http"
	"time"

	ls "github.com/livestorm-gateway/gateway/livestorm"
)

// Compile-time check of the exported API other packages code against: every
// signature of the agreed contract, exactly. A rename or signature change
// breaks this file's build.
var (
	_ func(...ls.Option) *ls.Client                                                                              = ls.New
	_ func(string) ls.Option                                                                                     = ls.WithBaseURL
	_ func(ls.Credential) ls.Option                                                                              = ls.WithCredential
	_ func(*http.Client) ls.Option                                                                               = ls.WithHTTPClient
	_ func(ls.Limiter) ls.Option                                                                                 = ls.WithLimiter
	_ func(ls.RetryPolicy) ls.Option                                                                             = ls.WithRetryPolicy
	_ func(func(ls.RequestInfo)) ls.Option                                                                       = ls.WithObserver
	_ func(*slog.Logger) ls.Option                                                                               = ls.WithLogger
	_ func(int64) ls.Option                                                                                      = ls.WithMaxResponseBytes
	_ func(string) ls.Option                                                                                     = ls.WithUserAgent
	_ func(string) ls.Credential                                                                                 = ls.APIToken
	_ func(string) ls.Credential                                                                                 = ls.OAuthToken
	_ func(string) (ls.Credential, error)                                                                        = ls.ParseAuthorization
	_ func(ls.Credential) bool                                                                                   = ls.Credential.IsZero
	_ func(ls.Credential) bool                                                                                   = ls.Credential.IsOAuth
	_ func(ls.Credential) string                                                                                 = ls.Credential.Fingerprint
	_ func(ls.Credential) (string, bool)                                                                         = ls.Credential.UnverifiedOrg
	_ func(ls.Credential) string                                                                                 = ls.Credential.String
	_ func(ls.Credential) string                                                                                 = ls.Credential.GoString
	_ slog.LogValuer                                                                                             = ls.Credential{}
	_ func(context.Context, ls.Credential) context.Context                                                       = ls.ContextWithCredential
	_ func(context.Context) (ls.Credential, bool)                                                                = ls.CredentialFrom
	_ error                                                                                                      = ls.ErrNoCredential
	_ func(int, time.Duration) ls.Limiter                                                                        = ls.NewLocalLimiter
	_ func(*ls.Client, context.Context) ls.RateLimit                                                             = (*ls.Client).RateLimit
	_ func(ls.Kind) string                                                                                       = ls.Kind.String
	_ error                                                                                                      = &ls.Error{}
	_ func(*ls.Error) error                                                                                      = (*ls.Error).Unwrap
	_ func(*ls.Error, error) bool                                                                                = (*ls.Error).Is
	_ func(error) ls.Kind                                                                                        = ls.KindOf
	_ func(*ls.List[ls.Event]) bool                                                                              = (*ls.List[ls.Event]).HasNext
	_ func(context.Context, func(context.Context, int) (*ls.List[ls.Person], error)) iter.Seq2[ls.Person, error] = ls.All[ls.Person]
	_ func(string, time.Time, []byte) string                                                                     = ls.SignWebhook
	_ func(string, string, []byte, time.Time, time.Duration) error                                               = ls.VerifyWebhook
	_ func([]byte) (*ls.WebhookEvent, error)                                                                     = ls.ParseWebhook
	_                                                                                                            = []error{ls.ErrNotFound, ls.ErrUnauthorized, ls.ErrForbidden, ls.ErrConflict, ls.ErrInvalid, ls.ErrRateLimited, ls.ErrQuotaExhausted, ls.ErrUnavailable,
		ls.ErrSignatureMissing, ls.ErrSignatureMalformed, ls.ErrSignatureMismatch, ls.ErrSignatureStale}
	_ = []ls.Kind{ls.KindUnknown, ls.KindNotFound, ls.KindUnauthorized, ls.KindForbidden, ls.KindConflict, ls.KindInvalid, ls.KindRateLimited, ls.KindQuotaExhausted, ls.KindUnavailable}
	_ = []string{ls.SignatureHeader, ls.EventCreated, ls.EventPublished, ls.SessionCreated, ls.SessionStarted, ls.SessionEnded, ls.PeopleRegistered,
		ls.PeopleAttended, ls.PeopleNotAttended, ls.PeopleWatchedReplay, ls.JobCreated, ls.JobEnded}

	// The 41 operations.
	_ func(*ls.Client, context.Context) error                                                                = (*ls.Client).Ping
	_ func(*ls.Client, context.Context) (*ls.Me, error)                                                      = (*ls.Client).Me
	_ func(*ls.Client, context.Context) (*ls.Organization, error)                                            = (*ls.Client).Organization
	_ func(*ls.Client, context.Context, ls.EventListOptions) (*ls.List[ls.Event], error)                     = (*ls.Client).ListEvents
	_ func(*ls.Client, context.Context, ls.EventInput) (*ls.Event, error)                                    = (*ls.Client).CreateEvent
	_ func(*ls.Client, context.Context, string, ...string) (*ls.Event, error)                                = (*ls.Client).GetEvent
	_ func(*ls.Client, context.Context, string, ls.EventInput) (*ls.Event, error)                            = (*ls.Client).UpdateEvent
	_ func(*ls.Client, context.Context, string, ls.EventInput) (*ls.Event, error)                            = (*ls.Client).ReplaceEvent
	_ func(*ls.Client, context.Context, string) error                                                        = (*ls.Client).DeleteEvent
	_ func(*ls.Client, context.Context, string, string) (*ls.Tag, error)                                     = (*ls.Client).AddEventTag
	_ func(*ls.Client, context.Context, string, string) error                                                = (*ls.Client).RemoveEventTag
	_ func(*ls.Client, context.Context, string, ls.EventPeopleListOptions) (*ls.List[ls.Person], error)      = (*ls.Client).ListEventPeople
	_ func(*ls.Client, context.Context, string, string) (*ls.Person, error)                                  = (*ls.Client).GetEventPerson
	_ func(*ls.Client, context.Context, string, ls.SessionListOptions) (*ls.List[ls.Session], error)         = (*ls.Client).ListEventSessions
	_ func(*ls.Client, context.Context, string, ls.SessionInput) (*ls.Session, error)                        = (*ls.Client).CreateSession
	_ func(*ls.Client, context.Context, ls.SessionListOptions) (*ls.List[ls.Session], error)                 = (*ls.Client).ListSessions
	_ func(*ls.Client, context.Context, string, ...string) (*ls.Session, error)                              = (*ls.Client).GetSession
	_ func(*ls.Client, context.Context, string, ls.SessionInput) (*ls.Session, error)                        = (*ls.Client).UpdateSession
	_ func(*ls.Client, context.Context, string, ls.SessionInput) (*ls.Session, error)                        = (*ls.Client).ReplaceSession
	_ func(*ls.Client, context.Context, string) error                                                        = (*ls.Client).DeleteSession
	_ func(*ls.Client, context.Context, string, ls.SessionPeopleListOptions) (*ls.List[ls.Person], error)    = (*ls.Client).ListSessionPeople
	_ func(*ls.Client, context.Context, string, ls.Registration) (*ls.Person, error)                         = (*ls.Client).RegisterPerson
	_ func(*ls.Client, context.Context, string, string) error                                                = (*ls.Client).UnregisterByEmail
	_ func(*ls.Client, context.Context, string, string) (*ls.Person, error)                                  = (*ls.Client).GetSessionPerson
	_ func(*ls.Client, context.Context, string, string, ls.Registration) (*ls.Person, error)                 = (*ls.Client).UpdateRegistration
	_ func(*ls.Client, context.Context, string, string) error                                                = (*ls.Client).UnregisterPerson
	_ func(*ls.Client, context.Context, string, []ls.Registration) (*ls.Job, error)                          = (*ls.Client).BulkRegister
	_ func(*ls.Client, context.Context, string, ls.ListOptions) (*ls.List[ls.ChatMessage], error)            = (*ls.Client).ListChatMessages
	_ func(*ls.Client, context.Context, string, ls.ListOptions) (*ls.List[ls.Question], error)               = (*ls.Client).ListQuestions
	_ func(*ls.Client, context.Context, string, ls.RecordingListOptions) (*ls.List[ls.Recording], error)     = (*ls.Client).ListRecordings
	_ func(*ls.Client, context.Context, ls.PeopleListOptions) (*ls.List[ls.Person], error)                   = (*ls.Client).ListPeople
	_ func(*ls.Client, context.Context, string) (*ls.Person, error)                                          = (*ls.Client).GetPerson
	_ func(*ls.Client, context.Context, ls.PeopleAttributeListOptions) (*ls.List[ls.PeopleAttribute], error) = (*ls.Client).ListPeopleAttributes
	_ func(*ls.Client, context.Context, string) (*ls.Job, error)                                             = (*ls.Client).GetJob
	_ func(*ls.Client, context.Context, string) ([]ls.JobTask, error)                                        = (*ls.Client).ListJobTasks
	_ func(*ls.Client, context.Context, ls.UserListOptions) (*ls.List[ls.User], error)                       = (*ls.Client).ListUsers
	_ func(*ls.Client, context.Context, string, string) (*ls.User, error)                                    = (*ls.Client).InviteUser
	_ func(*ls.Client, context.Context, string) error                                                        = (*ls.Client).RemoveUser
	_ func(*ls.Client, context.Context, ls.WebhookListOptions) (*ls.List[ls.Webhook], error)                 = (*ls.Client).ListWebhooks
	_ func(*ls.Client, context.Context, string, string) (*ls.Webhook, error)                                 = (*ls.Client).CreateWebhook
	_ func(*ls.Client, context.Context, string) error                                                        = (*ls.Client).DeleteWebhook
)

// Struct fields of the contract, by composite literal (fails to compile if a
// field is renamed or retyped).
var (
	_ = ls.RetryPolicy{MaxAttempts: 1, MaxTotalWait: time.Second, BaseDelay: time.Second, MaxDelay: time.Second}
	_ = ls.RateLimit{IntervalLimit: 1, IntervalRemaining: 1, MonthlyLimit: 1, MonthlyRemaining: 1, Reset: time.Time{}, Observed: time.Time{}}
	_ = ls.RequestInfo{Method: "", Route: "", Status: 0, Duration: 0, Attempt: 0, Err: nil, RateLimit: ls.RateLimit{}}
	_ = ls.ErrorObject{Title: "", Detail: "", Code: "", Status: "", Source: &struct{ Pointer, Parameter string }{}}
	_ = ls.Error{Kind: 0, StatusCode: 0, Method: "", Route: "", Errors: []ls.ErrorObject{}, RetryAfter: 0, Err: nil}
	_ = ls.Page{Number: 0, Size: 0}
	_ = ls.ListMeta{CurrentPage: 0, PreviousPage: (*int)(nil), NextPage: (*int)(nil), RecordCount: 0, PageCount: 0, ItemsPerPage: 0}
	_ = ls.List[ls.Tag]{Items: []ls.Tag{}, Meta: ls.ListMeta{}}
	_ = ls.Event{ID: "", Title: "", Slug: "", RegistrationLink: "", Status: "", SchedulingStatus: "", Language: "", Description: (*string)(nil),
		EstimatedDuration: 0, SessionsCount: 0, RegistrationPageEnabled: false, EveryoneCanSpeak: false, LightRegistrationPageEnabled: false,
		DetailedRegistrationPageEnabled: false, RecordingEnabled: false, ShowInCompanyPage: false, ChatEnabled: false, PollsEnabled: false,
		QuestionsEnabled: false, RecordingPublic: (*bool)(nil), PublishedAt: time.Time{}, CreatedAt: time.Time{}, UpdatedAt: time.Time{},
		Owner: (*ls.Person)(nil), Fields: []ls.EventField{}, SessionIDs: []string{}, TagIDs: []string{}, Sessions: []ls.Session{}, Tags: []ls.Tag{}}
	_ = ls.EventField{ID: "", Type: "", Order: 0, Required: false, Custom: false, Options: &ls.EventFieldOptions{Items: []string{}, MultipleAnswers: false}}
	_ = ls.Session{ID: "", EventID: "", Status: "", Timezone: "", RoomLink: "", Name: (*string)(nil), BreakoutRoomParentSessionID: (*string)(nil),
		EmbedURL: (*string)(nil), AttendeesCount: 0, RegistrantsCount: 0, Duration: (*int)(nil), EstimatedStartedAt: time.Time{}, StartedAt: time.Time{},
		EndedAt: time.Time{}, CanceledAt: time.Time{}, CreatedAt: time.Time{}, UpdatedAt: time.Time{}, PeopleIDs: []string{}, RecordingIDs: []string{},
		Event: (*ls.Event)(nil), People: []ls.Person{}, Recordings: []ls.Recording{}}
	_ = ls.Person{ID: "", Role: "", FirstName: "", LastName: "", Email: "", Timezone: (*string)(nil), AvatarLink: (*string)(nil), CreatedAt: time.Time{},
		UpdatedAt: time.Time{}, MessagesCount: 0, QuestionsCount: 0, VotesCount: 0, UpVotesCount: 0,
		RegistrantDetail: (*ls.RegistrantDetail)(nil), ReplayViewDetail: &ls.ReplayViewDetail{WatchedAt: time.Time{}, Raw: json.RawMessage(nil)}}
	_ = ls.RegistrantDetail{EventID: "", SessionID: "", ConnectionLink: "", RegistrationType: "", CreatedAt: time.Time{}, UpdatedAt: time.Time{},
		Fields:   []ls.RegistrantField{{ID: "", Type: "", Value: (*string)(nil), Values: []string{}, Required: (*bool)(nil), Custom: (*bool)(nil)}},
		Referrer: nil, UTMSource: nil, UTMMedium: nil, UTMTerm: nil, UTMContent: nil, UTMCampaign: nil, BrowserVersion: nil, BrowserName: nil,
		OSName: nil, OSVersion: nil, ScreenHeight: nil, ScreenWidth: nil, IPCity: nil, IPCountryCode: nil, IPCountryName: nil, PasswordKey: nil,
		SessionRole: nil, Attended: false, HasViewedReplay: false, IsHighlighted: false, IsGuestSpeaker: false, AttendanceRate: (*float64)(nil),
		AttendanceDuration: (*int)(nil)}
	_ = ls.User{ID: "", Role: "", FirstName: "", LastName: "", Email: "", Locale: "", AvatarLink: nil, WebsiteLink: nil, LinkedinLink: nil,
		FacebookLink: nil, TwitterHandle: nil, PendingInvite: false, CreatedAt: time.Time{}, UpdatedAt: time.Time{}}
	_ = ls.Webhook{ID: "", URL: "", Event: "", CreatedAt: time.Time{}, UpdatedAt: time.Time{}}
	_ = ls.Job{ID: "", Status: "", TotalItems: 0, TotalProcessed: 0, TotalFailed: 0, TotalSucceeded: 0, CreatedAt: time.Time{}, UpdatedAt: time.Time{}}
	_ = ls.JobTask{ID: "", Status: "", Email: "", PersonID: (*string)(nil), Errors: []ls.ErrorObject{}, CreatedAt: time.Time{}, UpdatedAt: time.Time{}}
	_ = ls.Tag{ID: "", Title: ""}
	_ = ls.Recording{ID: "", EventID: "", SessionID: "", FileType: "", MimeType: "", FileName: "", URL: "", FileSize: int64(0), URLGeneratedAt: time.Time{}, URLExpiresIn: time.Duration(0)}
	_ = ls.ChatMessage{ID: "", TextContent: "", AuthorID: "", CreatedAt: time.Time{}, FromGuestSpeaker: false, FromTeamMember: false, Author: (*ls.Person)(nil)}
	_ = ls.Question{ID: "", EventID: "", SessionID: "", Question: "", Response: (*string)(nil), ResponseOrally: false, RespondedAt: time.Time{},
		CreatedAt: time.Time{}, UpdatedAt: time.Time{}, AskerID: "", ResponderID: "", Asker: (*ls.Person)(nil), Responder: (*ls.Person)(nil)}
	_ = ls.Organization{ID: "", Name: "", Slug: "", ParentID: (*string)(nil)}
	_ = ls.Me{User: (*ls.User)(nil), Organization: (*ls.Organization)(nil)}
	_ = ls.PeopleAttribute{ID: "", Slug: "", Name: "", Type: "", Builtin: false, Description: nil, Placeholder: nil, UserID: nil,
		Options: []ls.PeopleAttributeOption{{Label: "", Value: "", Position: 0}}, CreatedAt: time.Time{}, UpdatedAt: time.Time{}}
	_ = ls.TimeRange{CreatedSince: time.Time{}, CreatedUntil: time.Time{}, UpdatedSince: time.Time{}, UpdatedUntil: time.Time{}}
	_ = ls.EventListOptions{Page: ls.Page{}, Title: "", EveryoneCanSpeak: (*bool)(nil), SchedulingStatus: "", Tags: []string{}, TimeRange: ls.TimeRange{}, Include: []string{}}
	_ = ls.SessionListOptions{Page: ls.Page{}, Status: "", DateFrom: time.Time{}, DateTo: time.Time{}, IncludeBreakoutRooms: (*bool)(nil), TimeRange: ls.TimeRange{}, Include: []string{}}
	_ = ls.SessionPeopleListOptions{Page: ls.Page{}, Role: "", Attended: (*bool)(nil), Email: "", TimeRange: ls.TimeRange{}, Include: []string{}}
	_ = ls.EventPeopleListOptions{Page: ls.Page{}, Role: "", Email: ""}
	_ = ls.PeopleListOptions{Page: ls.Page{}, Role: "", Email: ""}
	_ = ls.ListOptions{Page: ls.Page{}, Include: []string{}}
	_ = ls.RecordingListOptions{Page: ls.Page{}, URLExpiresIn: time.Duration(0)}
	_ = ls.PeopleAttributeListOptions{Page: ls.Page{}, Sort: "", Builtin: (*bool)(nil), Description: "", Name: "", Placeholder: "", Slug: "", Type: "", UserID: ""}
	_ = ls.UserListOptions{Page: ls.Page{}, Role: "", PendingInvite: (*bool)(nil), Email: ""}
	_ = ls.WebhookListOptions{Page: ls.Page{}, Event: ""}
	_ = ls.EventInput{CopyFromEventID: nil, OwnerID: nil, Title: nil, Slug: nil, Status: nil, Description: nil, EveryoneCanSpeak: nil,
		DetailedRegistrationPageEnabled: nil, LightRegistrationPageEnabled: nil, RecordingEnabled: nil, RecordingPublic: nil, ShowInCompanyPage: nil,
		ChatEnabled: nil, QuestionsEnabled: nil, PollsEnabled: nil, Sessions: []ls.SessionInput{}}
	_ = ls.SessionInput{Name: nil, Timezone: nil, EmbedURL: nil, EstimatedStartedAt: (*time.Time)(nil), TeamMemberIDs: []string{}}
	_ = ls.FieldValue{ID: "", Value: (*string)(nil), Values: []string{}}
	_ = ls.Registration{Fields: []ls.FieldValue{}, Referrer: nil, UTMSource: nil, UTMMedium: nil, UTMCampaign: nil, UTMTerm: nil, UTMContent: nil}
	_ = ls.WebhookEvent{Name: "", OrganizationID: "", ResourceType: "", ResourceID: "", Person: nil, Session: nil, Event: nil, Job: nil, Raw: json.RawMessage(nil)}
)
