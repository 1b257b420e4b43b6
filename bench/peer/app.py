"""The exam's API, as its FastAPI service serves it: POST /predict {"sentence": ...} answers
{"prediction value": label} from the pickled scikit-learn pipeline named by PEER_MODEL.

PEER_FORM=exam declares the endpoint with `def`, as the course's FastAPI services do (FastAPI runs
it on a thread of its pool); tuned declares it `async`: the prediction takes well under a
millisecond, so the thread hop costs more than it frees."""

import os

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

model = joblib.load(os.environ["PEER_MODEL"])
app = FastAPI()


class Sentence(BaseModel):
    sentence: str


def predict(body: Sentence):
    return {"prediction value": model.predict([body.sentence])[0]}


async def predict_async(body: Sentence):
    return predict(body)


app.post("/predict")(predict if os.environ["PEER_FORM"] == "exam" else predict_async)
