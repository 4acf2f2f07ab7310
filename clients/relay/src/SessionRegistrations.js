// A session's registrations, each with its person, as a paginated @connection of its own
// (SessionRegistrationsPaginationQuery reads the session back by node(id:)).
import { graphql } from 'relay-runtime';

export const SessionRegistrations = graphql`
  fragment SessionRegistrations_session on Session
  @refetchable(queryName: "SessionRegistrationsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" }) {
    id
    registrations(first: $count, after: $cursor) @connection(key: "SessionRegistrations_registrations") {
      totalCount
      edges {
        node {
          id
          attended
          answers {
            fieldId
            value
          }
          person {
            id
            email
            firstName
            lastName
          }
        }
      }
    }
  }
`;
