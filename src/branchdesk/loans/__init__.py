"""Loans and credit risk: products, applications, the scorecard lifecycle, servicing, early warning."""
