"""Test support: event factories, fakes, the DynamoDB call counter, Cognito helpers, the devstack clients."""
