"""Loans and credit risk: products, applications, scorecards, servicing and early warning."""
