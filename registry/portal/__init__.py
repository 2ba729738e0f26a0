"""The person in the grant: invitations, passkey accounts and the portal pages (issue #15)."""
