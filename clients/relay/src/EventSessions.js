// An Event's header and its sessions, a paginated @connection; @refetchable makes
// relay-compiler generate EventSessionsPaginationQuery, which reads the event back by
// node(id:) to refetch it or load the next sessions.
import { graphql } from 'relay-runtime';

export const EventSessions = graphql`
  fragment EventSessions_event on Event
  @refetchable(queryName: "EventSessionsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    id
    livestormId
    title
    schedulingStatus
    registrantsCount
    registrationFields {
      fieldId
      type
      required
    }
    sessions(first: $count, after: $cursor) @connection(key: "EventSessions_sessions") {
      totalCount
      edges {
        node {
          id
          name
          status
          estimatedStartedAt
          registrantsCount
          ...SessionRegistrations_session
        }
      }
    }
  }
`;
