"""Operations: experiments and switches on the process flows (claim, consultation, questionnaire, callback)."""
