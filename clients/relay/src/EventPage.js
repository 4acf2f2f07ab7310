// The event page of a small Relay app: its query spreads the Event's fragment. The app's
// code would render it with react-relay; the suite only compiles these documents with
// relay-compiler and runs the artifacts with relay-runtime (see ../../conformance/relay.test.mjs).
import { graphql } from 'relay-runtime';

export const EventPageQuery = graphql`
  query EventPageQuery($id: ID!) {
    event(id: $id) {
      ...EventSessions_event
    }
  }
`;
